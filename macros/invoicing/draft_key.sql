{% macro draft_key(source_ids) -%}
    {#- DESIGN.md §7, the same rule as taktgeber.keys.draft_key: 'TG-' + the first 12 hex
        characters of SHA-256 over the source ids, each as text, sorted as strings, joined
        with ','. `source_ids` is a SQL list expression (e.g. a list() aggregate). -#}
    ('TG-' || left(sha256(array_to_string(list_sort(list_transform({{ source_ids }}, lambda source_id: cast(source_id as varchar))), ',')), 12))
{%- endmacro %}

{#-
    dlt creates a column only once a value has been seen: a field that is null in every
    record of a load (no billed time entry yet, no change request yet) has no column.
    Staging selects such fields through `column_or_null`, so a missing column reads as
    a typed null instead of breaking the build.
-#}
{% macro source_columns(relation) %}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set names = [] -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- do names.append(column.name | lower) -%}
    {%- endfor -%}
    {{ return(names) }}
{% endmacro %}


{% macro column_or_null(columns, name, data_type) %}
    {%- if not execute or name | lower in columns -%}
        cast({{ adapter.quote(name) }} as {{ data_type }})
    {%- else -%}
        cast(null as {{ data_type }})
    {%- endif -%}
{% endmacro %}

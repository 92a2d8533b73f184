{#- Whether int_journals_summarized may keep the line totals of its last build for the
    journals none of whose lines were staged by this dbt invocation: Xero journals never
    change once posted (a correction is a new journal), so their lines' totals stay
    (stg_xero__journal_lines stages only lines not staged yet, `staged_in_invocation`).
    Only on a rebuild of what changed (TAKTGEBER_CHANGED_SOURCES), with the model's table
    there, when the accounts did not change (a line's revenue role may come from its
    account's type) and no staged line vanished from the raw table (its journal's totals
    change and its journal id is gone with it). Any other build sums every line. The
    journal headers (date, number, source) are always read whole. -#}
{% macro journal_totals_kept() %}
    {%- if not execute or this is none or should_full_refresh() -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set changed = changed_sources() -%}
    {%- if changed | length == 0 or 'raw_xero.accounts' in changed -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set existing = load_cached_relation(this) -%}
    {%- if existing is none or not existing.is_table -%}
        {{ return(false) }}
    {%- endif -%}
    {%- if meta_table_exists('vanished__stg_xero__journal_lines') -%}
        {%- set vanished = run_query(
            "select count(*) from taktgeber_meta.vanished__stg_xero__journal_lines"
            ~ " where invocation_id = '" ~ invocation_id ~ "'") -%}
        {%- if vanished.columns[0].values()[0] > 0 -%}
            {{ return(false) }}
        {%- endif -%}
    {%- endif -%}
    {{ return(true) }}
{%- endmacro %}

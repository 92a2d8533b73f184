{#- Whether int_journals_summarized may keep the rows of its last build for the journals
    none of whose lines were staged by this dbt invocation: Xero journals never change
    once posted (a correction is a new journal), so their lines' totals stay
    (stg_xero__journal_lines stages only lines not staged yet, `staged_in_invocation`),
    and the loader fetches only journals numbered after the last one it has, so their
    headers stay too. Only on an incremental run of a rebuild of what changed
    (TAKTGEBER_CHANGED_SOURCES), when the accounts did not change (a line's revenue role
    may come from its account's type) and no staged line vanished from the raw table (its
    journal's totals change and its journal id is gone with it). Any other build sums
    every line. -#}
{% macro journal_totals_kept() %}
    {%- if not execute or this is none or not is_incremental() -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set changed = changed_sources() -%}
    {%- if changed | length == 0 or 'raw_xero.accounts' in changed -%}
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


{#- The note of the journals a rebuild that keeps the other journals' rows writes. -#}
{% macro summed_journals_note() %}
    {{ return('taktgeber_meta.summed__' ~ this.identifier) }}
{%- endmacro %}


{#- pre_hook of int_journals_summarized (incremental, `append`): when it keeps the other
    journals' rows (`journal_totals_kept`), notes the journals it writes — those whose
    lines this invocation staged, those in the journal headers without a row here yet
    (new, or dated after `as_of_date`: summed and left out again), and those with a row
    here but gone from the headers — and deletes their rows (and any row without a journal
    id); on any other incremental run, deletes every row. A first build or
    `--full-refresh` creates the table. -#}
{% macro delete_journals_to_sum() %}
    {%- if not is_incremental() -%}
    select 1
    {%- elif journal_totals_kept() -%}
    {%- set note = summed_journals_note() -%}
    create schema if not exists taktgeber_meta;
    create or replace table {{ note }} as
    select journal_lines.xero_journal_id
    from {{ ref('stg_xero__journal_lines') }} as journal_lines
    where journal_lines.staged_in_invocation = '{{ invocation_id }}'
        and journal_lines.xero_journal_id is not null
    union
    select journals.xero_journal_id
    from {{ ref('stg_xero__journals') }} as journals
    anti join {{ this }} as summarized
        on journals.xero_journal_id = summarized.xero_journal_id
    where journals.xero_journal_id is not null
    union
    select summarized.xero_journal_id
    from {{ this }} as summarized
    anti join {{ ref('stg_xero__journals') }} as journals
        on summarized.xero_journal_id = journals.xero_journal_id
    where summarized.xero_journal_id is not null;
    comment on table {{ note }} is '{{ invocation_id }}';
    delete from {{ this }}
    where xero_journal_id is null
        or xero_journal_id in (select summed.xero_journal_id from {{ note }} as summed)
    {%- else -%}
    delete from {{ this }}
    {%- endif -%}
{%- endmacro %}

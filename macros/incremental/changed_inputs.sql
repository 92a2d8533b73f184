{#- Tables narrowed by changed inputs: a whole table keyed by invoice (the enriched
    invoices, the receivable measures) whose rows each depend only on their invoice's
    staged rows, payments and credit allocations, and otherwise only on what a day's Xero
    changes leave alone (contacts, seeds, vars).

    Such a model names its inputs model in `changed_inputs` (dbt_project.yml:
    `int_xero_invoice_inputs_hashed`, one hash per invoice of every row about it) and
    filters its rows by `changed_inputs_only(key column)`. After every build the `table`
    materialization (macros/materializations/table.sql) keeps the inputs' hashes it was
    built from in `taktgeber_meta.inputs__<model>`. On a rebuild that may be narrowed
    (`changes_reach_may_pass`: only time entries, Xero invoices, payments, credit notes,
    journals or the push ledger changed; same code, seeds, vars and as_of), it notes the
    keys whose hash differs or that only one side has (`taktgeber_meta.changed_inputs__
    <model>`), deletes the table's rows of them and of no key, and inserts the query's
    rows of them, which the filter lets through alone. The result equals a whole build:
    every other row's inputs are the same. -#}

{#- Whether this build of a `changed_inputs` table writes only the keys whose inputs
    changed: a rebuild by difference (`rebuilds_by_difference`) that may be narrowed, with
    the hashes of its last build kept. -#}
{% macro narrowed_by_changed_inputs() %}
    {%- if not execute or this is none or config.get('changed_inputs') is none -%}
        {{ return(false) }}
    {%- endif -%}
    {{ return(rebuilds_by_difference(load_cached_relation(this))
        and changes_reach_may_pass()
        and meta_table_exists('inputs__' ~ this.identifier)) }}
{%- endmacro %}


{#- SQL condition on `column` (the model's key, as its query names it): on a narrowed
    build, the keys whose inputs changed and rows without a key; else true. -#}
{% macro changed_inputs_only(column) %}
    {%- if narrowed_by_changed_inputs() -%}
    ({{ column }} in (select changed.key_value from {{ changed_inputs_note() }} as changed)
        or {{ column }} is null)
    {%- else -%}
    true
    {%- endif -%}
{%- endmacro %}


{#- The note of the keys whose inputs changed, and the hashes the last build kept. -#}
{% macro changed_inputs_note() %}
    {{ return('taktgeber_meta.changed_inputs__' ~ this.identifier) }}
{%- endmacro %}

{% macro kept_inputs() %}
    {{ return('taktgeber_meta.inputs__' ~ this.identifier) }}
{%- endmacro %}


{#- SQL: make `relation` hold the rows of `sql` (filtered by `changed_inputs_only`) by
    writing only the keys whose inputs changed, then keep the new hashes of those keys. -#}
{% macro replace_rows_of_changed_inputs(relation, sql, key) -%}
    {%- set inputs = ref(config.get('changed_inputs')) -%}
    {%- set note = changed_inputs_note() -%}
    {%- set kept = kept_inputs() -%}
    create or replace table {{ note }} as
    select coalesce(now.xero_invoice_id, before.xero_invoice_id) as key_value
    from {{ inputs }} as now
    full outer join {{ kept }} as before
        on now.xero_invoice_id = before.xero_invoice_id
    where now.inputs_hash is distinct from before.inputs_hash;
    comment on table {{ note }} is '{{ invocation_id }}';
    delete from {{ relation }}
    where {{ key }} is null
        or {{ key }} in (select changed.key_value from {{ note }} as changed);
    insert into {{ relation }} by name
    {{ sql }};
    delete from {{ kept }}
    where xero_invoice_id in (select changed.key_value from {{ note }} as changed);
    insert into {{ kept }}
    select now.xero_invoice_id, now.inputs_hash
    from {{ inputs }} as now
    where now.xero_invoice_id in (select changed.key_value from {{ note }} as changed)
{%- endmacro %}


{#- SQL: after a whole build (or one by difference) of a `changed_inputs` table, keep the
    hashes of the inputs it was built from. -#}
{% macro keep_changed_inputs() -%}
    create schema if not exists taktgeber_meta;
    create or replace table {{ kept_inputs() }} as
    select now.xero_invoice_id, now.inputs_hash
    from {{ ref(config.get('changed_inputs')) }} as now
{%- endmacro %}

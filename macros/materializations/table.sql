{#- The `table` materialization of this project: one `create or replace table`.

    dbt-duckdb's own builds a table under a temporary name and renames it into place, and
    before that reads DuckDB's catalog for foreign keys and indexes (whose dependents it
    would have to drop and restore). This project declares neither; its contracts carry
    only `not_null` and `check` constraints. In DuckDB `create or replace table` is
    atomic: the statement runs in the model's transaction, and if it fails dbt rolls the
    transaction back and the old table stays. What it saves is dbt's Python around each
    statement — every catalog read, rename and drop is a statement with its events and, for
    reads, a result table (~20 ms per model on a 2-core machine).

    Contracts are enforced as dbt-duckdb does: the query's columns are checked against the
    declared ones, the table is created with the declared types and constraints, then
    filled. A view of the same name (a model that was a view before) is dropped first.

    With a one-column `unique_key`, a rebuild of only what changed (`taktgeber build` names
    the changed sources, TAKTGEBER_CHANGED_SOURCES: same code, seeds and vars as the last
    passing build) writes only the rows that differ (`replace_rows_that_differ`): on a
    day with a few new or paid invoices most rows are the same, and writing a whole table
    again (DuckDB compresses every string column anew, mostly at the next checkpoint) cost
    more than computing it. A table narrowed by changed inputs (`changed_inputs`,
    macros/incremental/changed_inputs.sql) computes only the keys whose inputs changed
    then, and keeps its inputs' hashes after every build. Any other build replaces the
    table. -#}
{% materialization table, adapter="duckdb", supported_languages=['sql'] %}

  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='table') -%}

  {%- set other_type = existing_relation if existing_relation is not none
        and not existing_relation.is_table else none -%}
  {#- asked once: it reads the catalog #}
  {%- set narrowed = narrowed_by_changed_inputs() -%}
  {% call build_in_one_statement(replacing=other_type) -%}
    {%- if narrowed -%}
    {{ replace_rows_of_changed_inputs(target_relation, compiled_code, config.get('unique_key')) }}
    {%- elif rebuilds_by_difference(existing_relation) -%}
    {{ replace_rows_that_differ(
        target_relation, compiled_code, config.get('unique_key'),
        keep_replaced=config.get('keep_replaced_rows', false)) }}
    {%- else -%}
    {{ create_or_replace_table_as(target_relation, compiled_code) }}
    {%- endif -%}
    {%- if config.get('changed_inputs') is not none and not narrowed %}
    {#- the statements above end with `;` #}
    {{ keep_changed_inputs() }}
    {%- endif -%}
  {%- endcall %}

  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}


{#- SQL: replace `relation` with the rows of `sql`; with an enforced contract, the declared
    columns and constraints (the query's columns checked against them first). -#}
{% macro create_or_replace_table_as(relation, sql) -%}
  {%- set contract_config = config.get('contract') -%}
  {%- if contract_config.enforced -%}
    {{ get_assert_columns_equivalent(sql) }}
    create or replace table {{ relation }} {{ get_table_columns_and_constraints() }};
    insert into {{ relation }} {{ get_column_names() }} (
      {{ get_select_subquery(sql) }}
    );
  {%- else -%}
    create or replace table {{ relation }} as (
      {{ sql }}
    );
  {%- endif -%}
{%- endmacro %}


{#- Whether this model's build writes only the rows that differ (`replace_rows_that_differ`):
    a `table` with a one-column `unique_key`, its table there (`relation`, as found before
    the build), on a rebuild of only what changed, not `--full-refresh`. -#}
{% macro rebuilds_by_difference(relation) %}
  {{ return(config.get('materialized') == 'table'
      and config.get('unique_key') is string
      and changed_sources() | length > 0
      and relation is not none and relation.is_table
      and not should_full_refresh()) }}
{%- endmacro %}


{#- SQL: make `relation` hold the rows of `sql` by writing only what differs, per value of
    `key` (one column): the rows of every key whose rows are not all the same in both
    (compared whole, nulls equal), that only one of them holds, or that the query returns
    more than once, are deleted and inserted from the query; so are rows without a key.
    The result equals replacing the table, duplicates and missing keys included, so its
    tests see what a full build would give them. With an enforced contract, the query's
    columns are checked against the declared ones first. `keep_replaced`: the rows it
    replaces are kept, as they were, in `rows_set_aside(relation)` (commented
    `rows_that_differ`), and the keys it wrote in `keys_written_by_difference()`, for a
    post_hook to read and drop. -#}
{% macro replace_rows_that_differ(relation, sql, key, keep_replaced=false) -%}
  {%- set rows = adapter.quote(this.identifier ~ '__taktgeber_rows') -%}
  {%- set differing = keys_written_by_difference() -%}
  {%- if config.get('contract').enforced -%}
    {{ get_assert_columns_equivalent(sql) }}
  {%- endif %}
    create or replace temporary table {{ rows }} as
    {{ sql }};
    create or replace temporary table {{ differing }} as
    select coalesce(model_rows.{{ key }}, built.{{ key }}) as key_value
    from {{ rows }} as model_rows
    full outer join {{ relation }} as built
        on model_rows.{{ key }} = built.{{ key }}
    where model_rows.{{ key }} is null
        or built.{{ key }} is null
        or model_rows is distinct from built
    union all
    select {{ key }} as key_value
    from {{ rows }}
    group by {{ key }}
    having count(*) > 1;
    {%- if keep_replaced %}
    {%- set replaced = rows_set_aside(relation) %}
    create or replace table {{ replaced }} as
    select * from {{ relation }}
    where {{ key }} is null
        or {{ key }} in (select key_value from {{ differing }});
    comment on table {{ replaced }} is 'rows_that_differ';
    {%- endif %}
    delete from {{ relation }}
    where {{ key }} is null
        or {{ key }} in (select key_value from {{ differing }});
    insert into {{ relation }} by name
    select * from {{ rows }}
    where {{ key }} is null
        or {{ key }} in (select key_value from {{ differing }});
    drop table {{ rows }};
    {%- if not keep_replaced %}
    drop table {{ differing }};
    {%- endif %}
{%- endmacro %}


{#- Where the last build's rows of `relation` are set aside while a build replaces them:
    table `<relation>__last_build`, same schema. -#}
{% macro rows_set_aside(relation) %}
  {{ return(relation.incorporate(path={'identifier': relation.identifier ~ '__last_build'})) }}
{%- endmacro %}


{#- The temporary table of the keys this model's build wrote by difference. -#}
{% macro keys_written_by_difference() %}
  {{ return(adapter.quote(this.identifier ~ '__taktgeber_differing')) }}
{%- endmacro %}

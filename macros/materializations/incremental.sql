{#- The `incremental` materialization of this project: dbt-duckdb's own, except on a
    rebuild of only what changed.

    `taktgeber build` names the changed sources (TAKTGEBER_CHANGED_SOURCES) only when the
    code, seeds and vars are those of the last passing build and the built tables have
    the columns it left, so every incremental table has the columns its query returns. dbt-duckdb's materialization would still
    stage the new rows in a temporary table, read both tables' columns from the catalog
    (to widen types and to apply `on_schema_change`), insert, and drop the temporary
    table: several statements, each with dbt's Python around it. Here that run is one
    statement:

    - `append`: insert the query's rows by name;
    - `delete+insert` on a one-column `unique_key`: stage the rows, delete the target's
      rows with their keys, insert them by name.

    Any other run (first build, `--full-refresh`, code or seeds changed, dbt run by hand,
    another strategy) is dbt-duckdb's own, unchanged. -#}
{% materialization incremental, adapter="duckdb", supported_languages=['sql'] %}

  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set strategy = config.get('incremental_strategy') or 'append' -%}
  {%- set unique_key = config.get('unique_key') -%}
  {%- set same_code = changed_sources() | length > 0 -%}
  {%- set lean = same_code
        and existing_relation is not none and existing_relation.is_table
        and not should_full_refresh()
        and not config.get('incremental_predicates')
        and (
          (strategy == 'append' and not unique_key)
          or (strategy == 'delete+insert' and unique_key is string)
        ) -%}
  {%- if not lean -%}
    {{ return(dbt.materialization_incremental_duckdb()) }}
  {%- endif -%}

  {%- set target_relation = this.incorporate(type='table') -%}

  {% call build_in_one_statement() -%}
    {%- if strategy == 'append' %}
    insert into {{ target_relation }} by name
    select * from (
      {{ compiled_code }}
    ) as model_rows;
    {%- else %}
    {%- set staged = this.identifier ~ '__taktgeber_rows' %}
    create or replace temporary table {{ adapter.quote(staged) }} as
    {{ compiled_code }};
    delete from {{ target_relation }}
    where {{ unique_key }} in (select {{ unique_key }} from {{ adapter.quote(staged) }});
    insert into {{ target_relation }} by name
    select * from {{ adapter.quote(staged) }};
    drop table {{ adapter.quote(staged) }};
    {%- endif %}
  {%- endcall %}

  {{ return({'relations': [target_relation]}) }}
{%- endmaterialization %}

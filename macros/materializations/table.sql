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
    filled. A view of the same name (a model that was a view before) is dropped first. -#}
{% materialization table, adapter="duckdb", supported_languages=['sql'] %}

  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='table') -%}

  {%- set other_type = existing_relation if existing_relation is not none
        and not existing_relation.is_table else none -%}
  {% call build_in_one_statement(replacing=other_type) -%}
    {{ create_or_replace_table_as(target_relation, compiled_code) }}
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

{#- The `seed` materialization of this project: DuckDB reads the CSV file itself.

    dbt's own first reads the whole file into an agate table in Python (to type its
    columns and count its rows), then dbt-duckdb loads the rows with `COPY`. Here one
    statement does both: `create or replace table … as select * from read_csv(…)`, with
    the seed's `column_types` as the columns' types (every seed column of this project
    has one; a column without one is typed by DuckDB's CSV sniffer). The values are read
    as DuckDB's `COPY` read them before: an empty field is null. `dbt seed --show` has
    no rows to show. -#}
{% materialization seed, adapter="duckdb" %}

  {%- set old_relation = load_cached_relation(this) -%}
  {%- if old_relation is not none and old_relation.is_view -%}
    {{ exceptions.raise_compiler_error("Cannot seed to '{}', it is a view".format(old_relation.render())) }}
  {%- endif -%}
  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set column_types = config.get('column_types') or {} -%}
  {%- set path = adapter.get_seed_file_path(model) -%}
  {%- do store_result('agate_table', response='OK') -%}

  {% call build_in_one_statement() -%}
    create or replace table {{ target_relation }} as
    select * from read_csv(
      '{{ adapter.escape_sql_string(path) }}',
      header = true,
      delim = '{{ adapter.escape_sql_string(config.get('delimiter') or ',') }}'
      {%- if column_types %},
      types = {
        {%- for name, data_type in column_types.items() %}
        '{{ name }}': '{{ data_type }}'{{ ',' if not loop.last }}
        {%- endfor %}
      }
      {%- endif %}
    );
  {%- endcall %}

  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}

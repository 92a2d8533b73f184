{#- The `view` materialization of this project: one `create or replace view`.

    dbt's own creates the view under a temporary name, renames the old one away, renames
    the new one into place and drops the old: four statements, each with dbt's Python
    around it, where DuckDB replaces a view atomically in one. A table of the same name
    (a model that was a table before) is dropped first. A view with an enforced contract
    (none here) is built by dbt's own materialization, which checks its columns. -#}
{% materialization view, adapter="duckdb", supported_languages=['sql'] %}

  {%- if config.get('contract').enforced -%}
    {{ return(dbt.materialization_view_default()) }}
  {%- endif -%}

  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='view') -%}

  {%- set other_type = existing_relation if existing_relation is not none
        and not existing_relation.is_view else none -%}
  {% call build_in_one_statement(replacing=other_type) -%}
    create or replace view {{ target_relation }} as (
      {{ sql }}
    );
  {%- endcall %}

  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}

{#- The body of this project's materializations: the model's pre-hooks, its one statement
    ('main': the SQL of the call block, rendered after the pre-hooks ran), its post-hooks
    and the commit, all in one transaction. `replacing`: a relation of another type under
    the model's name (a model that was a view is now a table, or the reverse), dropped in
    the same transaction first. -#}
{% macro build_in_one_statement(replacing=none) %}
  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  -- `BEGIN` happens here:
  {{ run_hooks(pre_hooks, inside_transaction=True) }}
  {%- if replacing is not none %}
    {{ adapter.drop_relation(replacing) }}
  {%- endif %}
  {%- set sql = caller() %}
  {% call statement('main') -%}
    {{ sql }}
  {%- endcall %}
  {{ run_hooks(post_hooks, inside_transaction=True) }}
  -- `COMMIT` happens here
  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}
{% endmacro %}

{#- Incremental staging of the large facts (time entries, journal lines).

    An incremental build stages only the raw rows a load brought since the last build
    and replaces staged rows with the same key (delete+insert on `unique_key`); a row that
    left the raw table leaves the staged table too (`delete_vanished_rows`, a post-hook).
    `dbt build --full-refresh` (`taktgeber build --full-refresh`) restages everything.

    The cursors are the ones the loaders use (docs/loading.md). dlt's `_dlt_load_id` is
    not one: time entries and journals are loaded as Arrow tables, which get no load id
    (adding it halves the load rate, ../shared/specs/toolchain-notes.md). -#}

{#- Rows changed at or after the newest change already staged (`>=`: a record changed in
    the same second as the last staged one is restaged, never missed). Rows without a
    change time are restaged every time. -#}
{% macro changed_since_last_build(raw_changed_at, staged_changed_at) %}
    {%- if is_incremental() %}
    where {{ raw_changed_at }} is null
        or {{ raw_changed_at }} >= (select max({{ staged_changed_at }}) from {{ this }})
        or not exists (select 1 from {{ this }})
    {%- endif %}
{%- endmacro %}


{#- Rows whose key is not staged yet: for records that never change once written
    (Xero journals are immutable; a correction is a new journal). -#}
{% macro not_staged_yet(raw_key, staged_key) %}
    {%- if is_incremental() %}
    where {{ raw_key }} not in (select {{ staged_key }} from {{ this }})
    {%- endif %}
{%- endmacro %}


{#- post_hook: delete staged rows whose key is no longer in the raw table. They are noted
    first in `taktgeber_meta.vanished__<model>` with this invocation's id, so the models
    incremental by reach (macros/incremental/reach.sql) find them without comparing their
    own rows with every staged key.
    Every raw row is staged (the staging takes each change, or each key not staged yet)
    and the raw keys are unique (the loaders merge on them), so the staged rows are the
    raw rows plus the vanished ones: when both tables hold as many rows, none vanished and
    the keys need no comparison (an anti-join of every key, 1.3 s at 10m). -#}
{% macro delete_vanished_rows(staged_key, raw_relation, raw_key) %}
    {%- if is_incremental() -%}
    {%- set counts = run_query(
        "select (select count(*) from " ~ this ~ "), (select count(*) from " ~ raw_relation ~ ")") -%}
    {%- set none_vanished = execute and counts.rows[0][0] == counts.rows[0][1] -%}
    create schema if not exists taktgeber_meta;
    create or replace table taktgeber_meta.vanished__{{ this.identifier }} as
    select {{ staged_key }}, '{{ invocation_id }}' as invocation_id
    from {{ this }}
    {%- if none_vanished %}
    where false {#- as many staged rows as raw rows #}
    {%- else %}
    where {{ staged_key }} not in (select {{ raw_key }} from {{ raw_relation }})
    {%- endif %};
    delete from {{ this }}
    where {{ staged_key }} in (select {{ staged_key }} from taktgeber_meta.vanished__{{ this.identifier }})
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

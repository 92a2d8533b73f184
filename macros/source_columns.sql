{#-
    dlt creates a column only once a value has been seen: a field that is null in every
    record of a load (no billed time entry yet, no change request yet) has no column.
    Staging selects such fields through `column_or_null`, so a missing column reads as
    a typed null instead of breaking the build.
-#}
{#- The relation's columns as {lowercase name: lowercase type}, for `column_or_null` and
    `source_rows` (`source_column_types`). -#}
{% macro source_columns(relation) %}
    {{ return(source_column_types(relation)) }}
{% endmacro %}


{#- The relation's columns as {lowercase name: lowercase type} (empty at parse time): as
    `taktgeber build` read them when it fingerprinted the raw tables just before running
    dbt (TAKTGEBER_RAW_COLUMNS, by `schema.table`), else from DuckDB's catalog (one read
    per model, each with dbt's Python around it). -#}
{% macro source_column_types(relation) %}
    {%- set types = {} -%}
    {%- if execute -%}
        {%- set read = fromjson(env_var('TAKTGEBER_RAW_COLUMNS', '{}')) -%}
        {%- set key = relation.schema ~ '.' ~ relation.identifier -%}
        {%- if key in read -%}
            {%- do types.update(read[key]) -%}
        {%- else -%}
            {%- for column in adapter.get_columns_in_relation(relation) -%}
                {%- do types.update({column.name | lower: column.dtype | lower}) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(types) }}
{% endmacro %}


{#- The rows of a raw table, or none when its source's load has not created it yet. dlt
    creates a table with its first record: a child table above all
    (`credit_notes__allocations` when no credit note was ever allocated), or any table of
    an account that has no such records (no expenses, no deal associations). `columns`:
    from `source_columns` (empty: no such table). `read_directly`: the columns the model
    reads without `column_or_null`, given, with dlt's own, as nulls on the empty relation.
    A source never loaded at all (its schema holds no raw table) is not read as empty: the
    model fails naming the table. `taktgeber build` names every absent table, so an empty
    staging model is never silent. -#}
{% macro source_rows(relation, columns, read_directly=[]) %}
    {%- if not execute or columns or not source_schema_loaded(relation) -%}
    select * from {{ relation }}
    {%- else -%}
    -- {{ relation }} has not been loaded yet: no rows
    select
        {%- for name in read_directly %}
        cast(null as varchar) as {{ adapter.quote(name) }},
        {%- endfor %}
        cast(null as varchar) as _dlt_id,
        cast(null as varchar) as _dlt_parent_id,
        cast(null as bigint) as _dlt_list_idx,
        cast(null as varchar) as _dlt_load_id
    where false
    {%- endif -%}
{% endmacro %}


{#- Whether the relation's schema holds any raw table (dlt's own aside): as `taktgeber
    build` read them (TAKTGEBER_RAW_COLUMNS), else from DuckDB's catalog. -#}
{% macro source_schema_loaded(relation) %}
    {%- set read = fromjson(env_var('TAKTGEBER_RAW_COLUMNS', '{}')) -%}
    {%- if read -%}
        {%- set loaded = namespace(any=false) -%}
        {%- for key in read -%}
            {%- if key.startswith(relation.schema ~ '.') -%}
                {%- set loaded.any = true -%}
            {%- endif -%}
        {%- endfor -%}
        {{ return(loaded.any) }}
    {%- endif -%}
    {%- set found = run_query(
        "select count(*) from duckdb_tables() where database_name = current_database() "
        ~ "and schema_name = '" ~ relation.schema ~ "' and not starts_with(table_name, '_dlt_')") -%}
    {{ return(found.columns[0].values()[0] > 0) }}
{% endmacro %}


{#- The raw column `name` cast to `data_type`, or a null of that type when the table has
    no such column. `columns`: from `source_columns` ({name: type}). -#}
{% macro column_or_null(columns, name, data_type) %}
    {%- if not execute or name | lower in columns -%}
        {{ narrowing_cast(adapter.quote(name), columns.get(name | lower, '') if columns is mapping else '', data_type) }}
    {%- else -%}
        cast(null as {{ data_type }})
    {%- endif -%}
{% endmacro %}


{#- `expression` of type `source_type` cast to `data_type`. dlt types JSON numbers as
    DECIMAL(38, 9); DuckDB casts such a 128-bit decimal to a DECIMAL of at most 18 digits
    about 30 times slower than one of 18 digits (0.067 s against 0.002 s over 285k Xero
    invoices at 10m, for each money column each reader of a staging view reads). A value
    that fits 18 digits at its own scale (|x| < 10^9 for scale 9) first takes that exact
    cast: no digit is dropped, so the result is the direct cast's, rounding included
    (DuckDB rounds half away from zero). A larger one takes the direct cast. Any other
    pair of types: the direct cast. -#}
{% macro narrowing_cast(expression, source_type, data_type) %}
    {%- set source = modules.re.fullmatch('decimal\\((\\d+), ?(\\d+)\\)', source_type | lower) -%}
    {%- set target = modules.re.fullmatch('decimal\\((\\d+), ?(\\d+)\\)', data_type | lower) -%}
    {%- if source and target and source.group(1) | int > 18 and source.group(2) | int < 18
          and target.group(1) | int <= 18 -%}
        {%- set bound = '1' ~ '0' * (18 - source.group(2) | int) -%}
        case when {{ expression }} > -{{ bound }} and {{ expression }} < {{ bound }}
            then cast(cast({{ expression }} as decimal(18, {{ source.group(2) }})) as {{ data_type }})
            else cast({{ expression }} as {{ data_type }}) end
    {%- else -%}
        cast({{ expression }} as {{ data_type }})
    {%- endif -%}
{% endmacro %}


{#- A raw change-time column as an incremental filter compares it: as loaded when dlt
    typed it as a timestamp (no text round trip over every raw row, and DuckDB skips row
    groups by their min/max: ~6 s → 0.0 s over 10M time entries), else parsed from its ISO
    text (`iso_timestamp`); a missing column reads as null. The session time zone is UTC
    (profiles.yml), so both compare the same instant. `column_types`: from
    `source_column_types`. -#}
{% macro raw_timestamp(column_types, name) %}
    {%- if column_types.get(name, '').startswith('timestamp') -%}
        {{ adapter.quote(name) }}
    {%- else -%}
        {{ iso_timestamp(column_or_null(column_types.keys() | list, name, 'varchar')) }}
    {%- endif -%}
{% endmacro %}

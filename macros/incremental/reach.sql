{#- Reach: what a rebuild after a day's changes recomputes of the per-record models.

    When a build's changed inputs are time entries, Xero invoices, payments, credit notes
    or journals, or the push ledger (taktgeber.build runs dbt with
    TAKTGEBER_CHANGED_SOURCES naming the changed sources; same code, seeds, vars and as_of
    as the last passing build), a per-record model keyed by work record need not recompute
    every record: only the rows of the records the changes reach can differ. Such a model
    is `incremental` with `incremental_strategy: append` and a pre_hook
    `delete_reached_rows(time_key, item_key)` (dbt_project.yml, `&incremental_by_reach`):

    - narrowed rebuild (`rebuild_is_narrowed`): the hook notes the reached work records
      (in `taktgeber_meta.reached__<model>`), deletes the model's rows of them, and the
      model selects only those records (`in {{ reached_ids('time') }}`,
      `reached_rows`);
    - any other incremental run (other sources, code, seeds or as_of changed, or dbt run
      by hand without the variable): the
      hook deletes every row and the model selects everything, the same result as a table
      build;
    - first build or `--full-refresh`: a plain table build.

    The reached work records (`note_reached_work_items`, the billings model's first
    pre_hook) are the time entries restaged by this dbt invocation (their
    `staged_in_invocation`) or deleted from the staged entries (deleted in Harvest), and
    the records linked before or now to an invoice or ledger record whose fingerprint
    changed (`int_billing_inputs_fingerprinted`: what these models read of it). A payment
    or an invoice paid changes no fingerprint and so reaches no record. Models whose rows
    depend on groups of records reach whole groups: corrections the invoices that billed
    a reached record before or bill one now, and the changed invoices
    (`delete_rows_of_reached_invoices`), draft items the customer months a reached record
    was or may now be drafted in (`delete_rows_of_reached_customer_months`) and so the
    draft lines (`delete_rows_of_upstream_customer_months`), the work KPIs the months from
    the earliest date a reached record had or has (`delete_rows_of_reached_months`), and
    the per-customer KPI mart those months (`delete_rows_of_reached_kpi_months`). Receivables and DSO read
    time entries only through the month spine: they recompute every month when it
    changed, else the months from the first one whose invoices, payments or credit
    allocations changed (`delete_rows_of_changed_receivable_months`), none after time
    entries alone. Primary-key tests of the per-entry models check the keys the rebuild
    wrote, and the tests of the per-month models the months it wrote (`narrow_to`,
    macros/generic_tests.sql). -#}

{#- Whether `taktgeber_meta.<name>` exists now. Asked of the database: dbt's relation cache
    does not see the tables hooks create with plain SQL. -#}
{% macro meta_table_exists(name) %}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set found = run_query(
        "select count(*) from duckdb_tables() where database_name = current_database() "
        ~ "and schema_name = 'taktgeber_meta' and table_name = '" ~ name ~ "'") -%}
    {{ return(found.columns[0].values()[0] > 0) }}
{%- endmacro %}


{#- The comment of table `<schema>.<name>` and of its column `column` (none: no column
    asked), in one query; none when the table does not exist. The reach notes say in
    their comments which dbt invocation wrote them and what they hold. -#}
{% macro meta_table_comments(name, column=none, schema='taktgeber_meta') %}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set found = run_query(
        "select tables.comment, columns.comment from duckdb_tables() as tables"
        ~ " left join duckdb_columns() as columns on columns.table_oid = tables.table_oid"
        ~ " and columns.column_name = '" ~ (column or '') ~ "'"
        ~ " where tables.database_name = current_database()"
        ~ " and tables.schema_name = '" ~ schema ~ "' and tables.table_name = '" ~ name ~ "'") -%}
    {%- if found.rows | length == 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return([found.rows[0][0] or '', found.rows[0][1] or '']) }}
{%- endmacro %}


{#- The sources changed since the last passing build, as taktgeber.build named them
    (empty: every source may have changed). -#}
{% macro changed_sources() %}
    {%- set changed = env_var('TAKTGEBER_CHANGED_SOURCES', '') -%}
    {{ return(changed.split(',') if changed else []) }}
{%- endmacro %}


{#- The sources other than time entries a narrowed rebuild may follow: what the per-entry
    models read of them is in `int_billing_inputs_fingerprinted` (invoices, their lines, the
    credit allocated to them, the push ledger), or nothing (payments: only the enriched
    invoices' paid and due amounts, which they do not read; journals). -#}
{% macro sources_reach_may_pass() %}
    {{ return([
        'raw_xero.invoices', 'raw_xero.invoices__line_items', 'raw_xero.payments',
        'raw_xero.credit_notes', 'raw_xero.credit_notes__allocations',
        'raw_xero.journals', 'raw_xero.journal_lines',
        'raw_taktgeber.push_ledger', 'raw_taktgeber.push_ledger_lines',
    ]) }}
{%- endmacro %}


{#- Whether the per-entry models keep the rows of every work record this build does not
    reach (`note_reached_work_items`): on an incremental run, when the only changed sources
    are time entries and `sources_reach_may_pass`, and the fingerprint could compare its
    rows with the last build's (`invoice_changes_reach_bounded`). -#}
{% macro rebuild_is_narrowed() %}
    {#- a dbt unit test renders the model with no relation of its own (`this` is none) -#}
    {%- if this is none or not is_incremental() -%}
        {{ return(false) }}
    {%- endif -%}
    {%- if changed_sources() == ['raw_harvest.time_entries'] -%}
        {{ return(true) }}
    {%- endif -%}
    {{ return(changes_reach_may_pass() and invoice_changes_reach_bounded()) }}
{%- endmacro %}


{#- Whether every changed source is time entries or one of `sources_reach_may_pass`
    (so a rebuild may be narrowed; false when every source may have changed). -#}
{% macro changes_reach_may_pass() %}
    {%- set changed = changed_sources() -%}
    {%- set passable = ['raw_harvest.time_entries'] + sources_reach_may_pass() -%}
    {{ return(changed | length > 0 and changed | reject('in', passable) | list | length == 0) }}
{%- endmacro %}


{#- The fingerprint model's node (from the graph, not ref(): a ref in a macro every
    per-entry model calls would be a dependency of each). -#}
{% macro billing_inputs_fingerprint() %}
    {{ return(graph.nodes['model.' ~ project_name ~ '.int_billing_inputs_fingerprinted']) }}
{%- endmacro %}


{#- Whether the changed invoices and ledger records are known, so that they reach only the
    work records linked to them: `int_billing_inputs_fingerprinted` was not rebuilt by this
    dbt invocation (none of its inputs changed), or its post_hook compared its rows with
    the ones the last build left (it could not on a first build, or after its columns
    changed). Which contacts have sales invoices (a customer contact) reaches no
    per-entry model: only chk_customer_unmatched, which is built whole. Asked when each
    narrowed model is compiled, after the fingerprint's build (int_work_billings_linked and int_receivables_month_ended
    depend on it, and every other caller on one of them). -#}
{% macro invoice_changes_reach_bounded() %}
    {%- set note = meta_table_comments('changed__' ~ billing_inputs_fingerprint().alias) -%}
    {%- if note is none -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set noted_by, _, verdict = note[0].partition(':') -%}
    {%- if noted_by != invocation_id -%}
        {{ return(true) }}  {#- not rebuilt by this invocation: none of its inputs changed #}
    {%- endif -%}
    {{ return(verdict == 'bounded') }}
{%- endmacro %}


{#- The fingerprint's columns, for its notes. -#}
{% macro fingerprint_columns() %}
    {{ return([
        'fingerprint_key', 'record_kind', 'xero_invoice_id', 'invoice_number', 'reference',
        'xero_contact_id', 'row_hash',
    ]) }}
{%- endmacro %}


{#- pre_hook of `int_billing_inputs_fingerprinted`: sets the rows the last build left
    aside (`rows_set_aside`, macros/materializations/table.sql), renaming its table (DuckDB
    moves no table between schemas; none on a first build, or when that table had other
    columns; then the post_hook finds the changes unbounded). A leftover of a build that
    failed in between is dropped first. A rebuild of only what changed keeps the table:
    the materialization sets aside the rows it replaces. -#}
{% macro set_fingerprints_aside() %}
    {%- set last_build = rows_set_aside(this) -%}
    {%- set relation = load_relation(this) -%}
    {%- set kept = relation is not none and not rebuilds_by_difference(relation) and (
        adapter.get_columns_in_relation(relation) | map(attribute='name') | list) == fingerprint_columns() -%}
    drop table if exists {{ last_build }};
    {%- if kept %}
    alter table {{ this }} rename to {{ last_build.identifier }}
    {%- endif %}
{%- endmacro %}


{#- post_hook of `int_billing_inputs_fingerprinted`: notes the rows that differ from the
    last build's (`taktgeber_meta.changed__<model>`, as they were: `side` before, and are:
    now), labels the note (its comment: `<invocation>:bounded`, or `:unbounded` when the
    last build's rows were not set aside: every record is then recomputed) and drops
    them. When the build wrote only the rows that differ, the last build's rows set aside
    are those it replaced, and only the keys it wrote are compared. -#}
{% macro note_changed_fingerprints() %}
    {%- set last_build = rows_set_aside(this) -%}
    {%- set columns = fingerprint_columns() -%}
    {%- set comments = meta_table_comments(last_build.identifier, schema=last_build.schema) -%}
    {%- set noted = comments is not none -%}
    {%- set written = keys_written_by_difference()
          if noted and comments[0] == 'rows_that_differ' else none -%}
    create schema if not exists taktgeber_meta;
    create or replace table taktgeber_meta.changed__{{ this.identifier }} as
    {%- if noted %}
    with changed_keys as (
        select coalesce(before.fingerprint_key, now.fingerprint_key) as fingerprint_key
        from {{ last_build }} as before
        full join (
            select * from {{ this }}
            {%- if written %}
            where fingerprint_key in (select key_value from {{ written }})
            {%- endif %}
        ) as now
            on before.fingerprint_key = now.fingerprint_key
        where before.row_hash is distinct from now.row_hash
    )
    select 'before' as side, {{ columns | join(', ') }}, '{{ invocation_id }}' as invocation_id
    from {{ last_build }}
    where fingerprint_key in (select fingerprint_key from changed_keys)
    union all
    select 'now' as side, {{ columns | join(', ') }}, '{{ invocation_id }}' as invocation_id
    from {{ this }}
    where fingerprint_key in (select fingerprint_key from changed_keys)
    {%- else %}
    select 'now' as side, {{ columns | join(', ') }}, '{{ invocation_id }}' as invocation_id
    from {{ this }}
    where false
    {%- endif %};
    comment on table taktgeber_meta.changed__{{ this.identifier }} is '{{ invocation_id }}:{{ "bounded" if noted else "unbounded" }}';
    drop table if exists {{ last_build }}
    {%- if written %};
    drop table {{ written }}
    {%- endif %}
{%- endmacro %}


{#- SQL (a query): the time entries restaged by this dbt invocation, and those it deleted
    from the staged entries (gone from Harvest), as the staging model's post_hook noted
    them. -#}
{% macro changed_or_vanished_entries() %}
    {%- set staged = ref('stg_harvest__time_entries') -%}
    {%- if 'raw_harvest.time_entries' not in changed_sources() -%}
    select cast(null as bigint) as harvest_time_entry_id
    where false {#- no entry was restaged #}
    {%- else -%}
    select harvest_time_entry_id
    from {{ staged }}
    where staged_in_invocation = '{{ invocation_id }}'
    union
    select harvest_time_entry_id
    from taktgeber_meta.vanished__{{ staged.identifier }}
    where invocation_id = '{{ invocation_id }}'
    {%- endif -%}
{%- endmacro %}


{#- The table of the work records this narrowed rebuild reaches, noted by the billings
    model's first pre_hook (`note_reached_work_items`). -#}
{% macro reached_work_items_table() %}
    {{ return('taktgeber_meta.reached__' ~ billings_alias()) }}
{%- endmacro %}


{#- The billings model's table name (from the graph: the model itself asks too). -#}
{% macro billings_alias() %}
    {{ return(graph.nodes['model.' ~ project_name ~ '.int_work_billings_linked'].alias) }}
{%- endmacro %}


{#- pre_hook of int_work_billings_linked (before `delete_reached_rows`), on a narrowed
    rebuild: notes the work records it reaches, with this invocation's id:
    - the time entries restaged or deleted by this invocation;
    - the records linked, before this build, to an invoice whose fingerprint changed, or to
      the invoice a changed ledger record named by id or reference (which holds every
      record its lines named then);
    - the time entries and expenses whose Harvest invoice number is a changed invoice's,
      before or now;
    - the records the lines of a changed ledger record name now, and those of a ledger
      record that names a changed invoice by id or reference.
    A narrowed rebuild follows a passing build, after which every per-entry model held
    exactly what its inputs gave: only these records' rows can differ. -#}
{% macro note_reached_work_items() %}
    {%- if this is none -%}
    select 1
    {%- elif not is_incremental() or not rebuild_is_narrowed() -%}
    {#- none reached: the notes exist for every model that reads them (a later rebuild may
        run those models without this one: a day of payments only reaches corrections) #}
    create schema if not exists taktgeber_meta;
    create or replace table taktgeber_meta.reached__{{ this.identifier }} as
    select
        null::varchar as work_item_id, null::varchar as work_item_kind, null::varchar as source_id,
        null::bigint as harvest_time_entry_id, null::bigint as harvest_expense_id,
        null::varchar as hubspot_line_item_id, '{{ invocation_id }}' as invocation_id
    where false;
    create or replace table taktgeber_meta.reached__{{ this.identifier }}__invoices as
    select null::varchar as xero_invoice_id, '{{ invocation_id }}' as invocation_id
    where false
    {%- else -%}
    {%- set fingerprint = billing_inputs_fingerprint() -%}
    {%- set changed = 'taktgeber_meta.changed__' ~ fingerprint.alias -%}
    create schema if not exists taktgeber_meta;
    create or replace table taktgeber_meta.reached__{{ this.identifier }} as
    with changed as (
        {%- if meta_table_exists('changed__' ~ fingerprint.alias) %}
        select * from {{ changed }} where invocation_id = '{{ invocation_id }}'
        {%- else %}
        select null::varchar as side, null::varchar as fingerprint_key, null::varchar as record_kind,
            null::varchar as xero_invoice_id, null::varchar as invoice_number, null::varchar as reference
        where false
        {%- endif %}
    ),
    changed_invoices as (
        select xero_invoice_id, invoice_number, reference from changed where record_kind = 'invoice'
    ),
    changed_ledger as (
        -- as the last build saw them (a new record linked nothing then)
        select xero_invoice_id, reference from changed where record_kind = 'ledger' and side = 'before'
    ),
    named_ledger as (
        -- the lines now of the changed ledger records and of those naming a changed invoice
        select harvest_time_entry_ids, harvest_expense_ids, hubspot_line_item_ids
        from {{ ref('stg_taktgeber__push_ledger_lines') }}
        where draft_key in (
            select substr(fingerprint_key, length('ledger:') + 1) from changed where record_kind = 'ledger'
            union
            select substr(fingerprint_key, length('ledger:') + 1)
            from {{ fingerprint.relation_name }}
            where record_kind = 'ledger'
                and (xero_invoice_id in (select xero_invoice_id from changed_invoices)
                    or reference in (select reference from changed_invoices where reference is not null))
        )
    ),
    linked_before as (
        -- linked, before this build, to a changed invoice or to the invoice a changed ledger
        -- record named by id or reference (the records its lines named then are among them)
        select work_item_kind, source_id
        from {{ this }}
        where xero_invoice_id in (
            select xero_invoice_id from changed where record_kind = 'invoice' and side = 'before'
            union
            select xero_invoice_id from changed_ledger where xero_invoice_id is not null
            union
            select xero_invoice_id from {{ ref('stg_xero__invoices') }}
            where reference in (select reference from changed_ledger where reference is not null)
        )
    ),
    reached as (
        select 'time' as work_item_kind, cast(entries.harvest_time_entry_id as varchar) as source_id
        from ({{ changed_or_vanished_entries() }}) as entries
        union
        select work_item_kind, source_id from linked_before
        union
        select 'time', cast(harvest_time_entry_id as varchar)
        from {{ ref('stg_harvest__time_entries') }}
        where harvest_invoice_number in (select invoice_number from changed_invoices)
        union
        select 'expense', cast(harvest_expense_id as varchar)
        from {{ ref('stg_harvest__expenses') }}
        where harvest_invoice_number in (select invoice_number from changed_invoices)
        union
        select 'time', cast(unnest(harvest_time_entry_ids) as varchar) from named_ledger
        union
        select 'expense', cast(unnest(harvest_expense_ids) as varchar) from named_ledger
        union
        select 'milestone', unnest(hubspot_line_item_ids) from named_ledger
    )
    select
        reached.work_item_kind || ':' || reached.source_id as work_item_id,
        reached.work_item_kind,
        reached.source_id,
        case when reached.work_item_kind = 'time' then cast(reached.source_id as bigint) end as harvest_time_entry_id,
        case when reached.work_item_kind = 'expense' then cast(reached.source_id as bigint) end as harvest_expense_id,
        case when reached.work_item_kind = 'milestone' then reached.source_id end as hubspot_line_item_id,
        '{{ invocation_id }}' as invocation_id
    from reached
    where reached.source_id is not null;
    {#- the invocation that noted them, also when it reached none (a day of payments only) #}
    comment on table taktgeber_meta.reached__{{ this.identifier }} is '{{ invocation_id }}'
    {%- endif -%}
{%- endmacro %}


{#- Second pre_hook of int_work_billings_linked: on a narrowed rebuild, labels the column
    `work_item_kind` of the reached work records' note with the kinds it holds (e.g.
    `time,expense`), which `reached_kinds` reads in one query. -#}
{% macro label_reached_kinds() %}
    {%- if this is none or not is_incremental() or not rebuild_is_narrowed() -%}
    select 1
    {%- else -%}
    {%- set kinds = run_query(
        "select coalesce(string_agg(distinct work_item_kind, ',' order by work_item_kind), '')"
        ~ " from taktgeber_meta.reached__" ~ this.identifier) -%}
    comment on column taktgeber_meta.reached__{{ this.identifier }}.work_item_kind is '{{ kinds.columns[0].values()[0] }}'
    {%- endif -%}
{%- endmacro %}


{#- The kinds of work records (time, expense, milestone) this narrowed rebuild reaches,
    as the billings model noted them: only time entries when they are all that changed;
    none when the billings model was not rebuilt (nothing it reads changed); every kind for
    the billings model itself, whose SQL is compiled before its pre_hooks note them. Lets
    a model leave out the filters of kinds no record of which is reached. -#}
{% macro reached_kinds() %}
    {%- set every = ['time', 'expense', 'milestone'] -%}
    {%- if not execute or this is none or this.identifier == billings_alias() -%}
        {{ return(every) }}
    {%- endif -%}
    {%- if changed_sources() == ['raw_harvest.time_entries'] -%}
        {{ return(['time']) }}
    {%- endif -%}
    {%- set note = meta_table_comments('reached__' ~ billings_alias(), 'work_item_kind') -%}
    {%- if note is none or note[0] != invocation_id -%}
        {{ return([]) }}
    {%- endif -%}
    {{ return(note[1].split(',') if note[1] else []) }}
{%- endmacro %}


{#- Whether this narrowed rebuild reaches work records of `kind` (`reached_kinds`). -#}
{% macro reaches_kind(kind) %}
    {{ return(kind in reached_kinds()) }}
{%- endmacro %}


{#- SQL (a subquery): the ids of the reached work records of `kind`, as `noted` (a table;
    default this model's reach note) holds them: time entry ids (bigint), expense ids
    (bigint), milestone line item ids (varchar), or `work_item_id`s of every kind but
    time (`other_than_time`). -#}
{% macro reached_ids(kind, noted=none) %}
    {%- set noted = noted or 'taktgeber_meta.reached__' ~ this.identifier -%}
    {%- if kind == 'other_than_time' -%}
    (select work_item_id from {{ noted }} where work_item_kind <> 'time')
    {%- else -%}
    {%- set column = {'time': 'harvest_time_entry_id', 'expense': 'harvest_expense_id', 'milestone': 'hubspot_line_item_id'}[kind] -%}
    (select {{ column }} from {{ noted }} where work_item_kind = '{{ kind }}')
    {%- endif -%}
{%- endmacro %}


{#- SQL: the reached work records other than time entries (a day's few expenses and
    milestones), as a list of their work_item_ids written into the query: a filter DuckDB
    applies while it scans, where a second semi-join would hash every row's key (1 s at
    10m). A subquery when there are more than 1,000 of them. -#}
{% macro reached_other_work_items() %}
    {%- set table = reached_work_items_table() -%}
    {%- set found = run_query(
        "select work_item_id from " ~ table ~ " where invocation_id = '" ~ invocation_id
        ~ "' and work_item_kind <> 'time' order by 1 limit 1001") if execute else none -%}
    {%- if found is none or found.rows | length > 1000 -%}
    {{ reached_ids('other_than_time', table) }}
    {%- else -%}
    ({%- for row in found.rows %}'{{ row[0] | replace("'", "''") }}'{{ ', ' if not loop.last }}{% endfor -%})
    {%- endif -%}
{%- endmacro %}


{#- SQL (a query): `columns` of the rows of table `relation` that are of a reached work
    record (as `noted`, default this model's reach note, holds them). `time_key`: the
    row's time entry id (null on rows of other records); `item_key`: its work_item_id
    (`kind:source id`), none for a model of time entries only; both expressions on
    `relation`'s columns. The usual day reaches time entries only: one bigint filter. When
    records other than time entries are reached too, one scan per key (`select_where`):
    an `or` of the two keys read every column of every row (a 10.8M-row model at 10m:
    0.29 s against 0.005 s). -#}
{% macro reached_rows(relation, time_key, item_key=none, noted=none, columns='*') %}
    {%- set of_entries = time_key ~ ' in ' ~ reached_ids('time', noted) -%}
    {%- if item_key is not none and reached_kinds() | reject('equalto', 'time') | list | length > 0 -%}
    {{ select_where(relation, [of_entries, item_key ~ ' in ' ~ reached_other_work_items()], columns) }}
    {%- else -%}
    {{ select_where(relation, of_entries, columns) }}
    {%- endif -%}
{%- endmacro %}


{#- SQL (a query): `columns` of the rows of table `relation` where `conditions` hold: one
    SQL condition, or two, each row where either holds once. Two conditions are read by a
    scan each (`union all`), as DuckDB pushes each filter into its scan; an `or` of
    semi-joins on two columns is a join that reads every column of every row. -#}
{% macro select_where(relation, conditions, columns='*') %}
    {%- if conditions is string -%}
    select {{ columns }} from {{ relation }} where {{ conditions }}
    {%- else -%}
    select {{ columns }} from {{ relation }} where {{ conditions[0] }}
    union all
    select {{ columns }} from {{ relation }}
    where {{ conditions[1] }} and coalesce(not ({{ conditions[0] }}), true)
    {%- endif -%}
{%- endmacro %}


{#- pre_hook of a reach-incremental model. `time_key`, `item_key`: as for
    `reached_rows`. A narrowed rebuild notes the reached work records (a copy of
    the billings model's note, `noted_here` for the billings model itself) and deletes
    their rows; any other incremental run deletes every row. Before deleting,
    `note_invoices` notes the invoices of those rows, `note_first_date` (date columns) the
    earliest of those dates on them, `note_months` (SQL dates on the model's columns) the
    months (YYYY-MM) of those dates on them, `note_customers` (SQL on the model's columns)
    the customers of those rows (nulls left out). -#}
{% macro delete_reached_rows(time_key, item_key=none, note_invoices=false, note_first_date=none, note_months=none, note_customers=none, noted_here=false) %}
    {%- if this is none or not is_incremental() -%}
    select 1
    {%- elif rebuild_is_narrowed() -%}
    {%- set reached = 'taktgeber_meta.reached__' ~ this.identifier -%}
    {%- if not noted_here %}
    create schema if not exists taktgeber_meta;
    create or replace table {{ reached }} as
    select * from {{ reached_work_items_table() }}
    where invocation_id = '{{ invocation_id }}';
    {#- the invocation that noted them, also when it reached none (a day of payments only) #}
    comment on table {{ reached }} is '{{ invocation_id }}';
    {%- endif %}
    {%- set noted = ['rowid as reached_rowid'] -%}
    {%- if note_invoices %}{% do noted.append('xero_invoice_id') %}{% endif -%}
    {%- if note_first_date %}{% do noted.append('least(' ~ note_first_date | join(', ') ~ ') as noted_first_date') %}{% endif -%}
    {%- if note_months %}{% do noted.append('[' ~ note_months | join(', ') ~ '] as noted_dates') %}{% endif -%}
    {%- if note_customers %}{% do noted.append(note_customers ~ ' as noted_customer') %}{% endif -%}
    {%- if noted | length == 1 %}
    delete from {{ this }}
    where rowid in ({{ reached_rows(this, time_key, item_key, columns='rowid') }})
    {%- else %}
    {#- the rows to delete, read once for every note (each read scans the model's keys) #}
    {%- set old_rows = 'reached_old_rows__' ~ this.identifier %}
    create or replace temp table {{ old_rows }} as
    {{ reached_rows(this, time_key, item_key, columns=noted | join(', ')) }};
    {%- if note_invoices %}
    create or replace table {{ reached }}__invoices as
    select distinct old_rows.xero_invoice_id, '{{ invocation_id }}' as invocation_id
    from {{ old_rows }} as old_rows;
    {%- endif %}
    {%- if note_first_date %}
    create or replace table {{ reached }}__first_date as
    select min(old_rows.noted_first_date) as first_date, '{{ invocation_id }}' as invocation_id
    from {{ old_rows }} as old_rows;
    {%- endif %}
    {%- if note_months %}
    create or replace table {{ reached }}__months as
    {{ months_of_dates('select unnest(old_rows.noted_dates) as noted_date from ' ~ old_rows ~ ' as old_rows') }};
    {%- endif %}
    {%- if note_customers %}
    create or replace table {{ reached }}__customers as
    select distinct old_rows.noted_customer as customer_id, '{{ invocation_id }}' as invocation_id
    from {{ old_rows }} as old_rows
    where old_rows.noted_customer is not null;
    {%- endif %}
    delete from {{ this }}
    where rowid in (select old_rows.reached_rowid from {{ old_rows }} as old_rows);
    drop table {{ old_rows }}
    {%- endif %}
    {%- else -%}
    delete from {{ this }}
    {%- endif -%}
{%- endmacro %}


{#- SQL: the invoices this narrowed rebuild reaches, as the pre_hook below noted them. -#}
{% macro reached_invoices() %}
    (select xero_invoice_id from taktgeber_meta.reached__{{ this.identifier }})
{%- endmacro %}


{#- pre_hook of a model keyed by invoice (corrections): a narrowed rebuild reaches the
    invoices that billed a reached work record before this build (noted by the billings
    model's pre_hook when it deleted their links) or bill one now, and the invoices whose
    fingerprint changed; it deletes their rows. Any other incremental run deletes every
    row. -#}
{% macro delete_rows_of_reached_invoices() %}
    {%- if this is none or not is_incremental() -%}
    select 1
    {%- elif rebuild_is_narrowed() -%}
    {%- set billings = ref('int_work_billings_linked') -%}
    {%- set fingerprint = billing_inputs_fingerprint() -%}
    create or replace table taktgeber_meta.reached__{{ this.identifier }} as
    select xero_invoice_id
    from taktgeber_meta.reached__{{ billings.identifier }}__invoices
    where invocation_id = '{{ invocation_id }}'
    union
    select xero_invoice_id
    from ({{ reached_rows(
        billings, 'harvest_time_entry_id', 'work_item_id', reached_work_items_table(), columns='xero_invoice_id') }})
    {%- if meta_table_exists('changed__' ~ fingerprint.alias) %}
    union
    select xero_invoice_id
    from taktgeber_meta.changed__{{ fingerprint.alias }}
    where invocation_id = '{{ invocation_id }}' and record_kind = 'invoice'
    {%- endif %};
    delete from {{ this }}
    where xero_invoice_id in {{ reached_invoices() }}
    {%- else -%}
    delete from {{ this }}
    {%- endif -%}
{%- endmacro %}


{#- SQL: whether `company` and `day` (a date column) fall in a customer month this narrowed
    rebuild reaches, as the pre_hook below noted them (a semi-join on two columns). The
    second semi-join, on the plain date column against every day from the first reached
    month to the last, changes no result: DuckDB pushes its bounds into the table scan,
    which then skips the row groups of other months (2.6 s → 1.1 s at 10m). -#}
{% macro in_reached_customer_months(company, day) %}
    {{ in_noted_customer_months('reached__' ~ this.identifier, company, "date_trunc('month', " ~ day ~ ")") }}
    and {{ day }} in (
        select cast(unnest(generate_series(
            min(reached.month_start),
            max(reached.month_start) + interval 1 month - interval 1 day,
            interval 1 day
        )) as date)
        from taktgeber_meta.reached__{{ this.identifier }} as reached
    )
{%- endmacro %}


{#- pre_hook of the draft items (rows grouped into drafts per customer × currency × month
    [× project]; a draft's key covers its whole group). A narrowed rebuild reaches every
    customer month a reached work record was drafted in before or may be drafted in now, and
    the customer months of the rows whose project's over-budget flag changed; it deletes
    their rows. Any other incremental run deletes every row. -#}
{% macro delete_rows_of_reached_customer_months() %}
    {%- if this is none or not is_incremental() -%}
    select 1
    {%- elif rebuild_is_narrowed() -%}
    {%- set reached = reached_work_items_table() %}
    create or replace table taktgeber_meta.reached__{{ this.identifier }} as
    select drafted.hubspot_company_id, cast(drafted.billing_month || '-01' as date) as month_start
    from ({{ reached_rows(
        this, 'harvest_time_entry_id', "work_item_kind || ':' || source_id", reached,
        columns='hubspot_company_id, billing_month') }}) as drafted
    union
    select work_items.hubspot_company_id, date_trunc('month', work_items.work_date)
    from ({{ reached_rows(
        ref('int_work_items_billed'), 'harvest_time_entry_id', 'work_item_id', reached,
        columns='hubspot_company_id, work_date') }}) as work_items
    where work_items.hubspot_company_id is not null
    union
    select drafted.hubspot_company_id, cast(drafted.billing_month || '-01' as date)
    from {{ this }} as drafted
    left join {{ ref('int_project_budgets_compared') }} as budgets
        on drafted.harvest_project_id = budgets.harvest_project_id
    where drafted.is_project_over_budget
        != coalesce(budgets.is_over_budget_without_change_request, false);
    comment on table taktgeber_meta.reached__{{ this.identifier }} is '{{ invocation_id }}';
    delete from {{ this }}
    where {{ in_reached_customer_months('hubspot_company_id', 'work_date') }}
    {%- else -%}
    delete from {{ this }}
    {%- endif -%}
{%- endmacro %}


{#- SQL: whether (`company`, `month_start`) is one of the customer months noted in
    `taktgeber_meta.<noted>` (a semi-join on two columns). -#}
{% macro in_noted_customer_months(noted, company, month_start) %}
    ({{ company }}, {{ month_start }}) in (
        select reached.hubspot_company_id, reached.month_start
        from taktgeber_meta.{{ noted }} as reached
    )
{%- endmacro %}


{#- SQL (a condition on a model's rows): the rows of the customer months `upstream` (the
    draft items) reached in this dbt invocation, as its pre_hook noted them (the note's
    table comment names the invocation); every row when it noted none in this
    invocation. `month_start`: SQL, the first day of the row's month. -#}
{% macro in_upstream_customer_months(upstream, company, month_start) %}
    {%- set noted = 'reached__' ~ ref(upstream).identifier -%}
    {%- if not meta_table_exists(noted) -%}
    true
    {%- else -%}
    (
        coalesce((
            select noted.comment
            from duckdb_tables() as noted
            where noted.database_name = current_database()
                and noted.schema_name = 'taktgeber_meta'
                and noted.table_name = '{{ noted }}'
        ), '') != '{{ invocation_id }}'
        or {{ in_noted_customer_months(noted, company, month_start) }}
    )
    {%- endif -%}
{%- endmacro %}


{#- pre_hook of a model whose rows of a customer month are a function of the draft items
    of that customer month alone (the draft lines: a draft's key covers one customer,
    currency and month): a narrowed rebuild recomputes the customer months the draft items
    recomputed and deletes their rows (`billing_month`, YYYY-MM). Any other incremental
    run deletes every row. -#}
{% macro delete_rows_of_upstream_customer_months(upstream) %}
    {%- if this is none or not is_incremental() -%}
    select 1
    {%- elif rebuild_is_narrowed() -%}
    delete from {{ this }}
    where {{ in_upstream_customer_months(upstream, 'hubspot_company_id', "cast(billing_month || '-01' as date)") }}
    {%- else -%}
    delete from {{ this }}
    {%- endif -%}
{%- endmacro %}


{#- SQL: the first month (YYYY-MM) this narrowed rebuild reaches, as the pre_hook below
    noted it (null: none). -#}
{% macro reached_first_month() %}
    (select first_month from taktgeber_meta.reached__{{ this.identifier }})
{%- endmacro %}


{#- The dates from which a work record counts in a work-KPI month: spent (WIP, under-charges,
    budgets), first invoice (WIP ends). Columns of int_work_items_valued. (Its first posted
    Harvest invoice counts for time to invoice and realisation, in
    int_kpi_invoiced_work_computed, `invoiced_work_dates`.) -#}
{% macro work_kpi_month_dates() %}
    {{ return(['spent_date', 'first_billed_date']) }}
{% endmacro %}


{#- The dates from which a milestone counts in a stock work-KPI month: due (overdue
    milestones) and first invoice (no longer overdue). Columns of int_work_items_billed,
    which holds the milestones (int_work_items_valued does not). (A milestone never due is
    never overdue; its time to invoice counts in int_kpi_invoiced_work_computed.) -#}
{% macro milestone_kpi_month_dates() %}
    {{ return(['work_date', 'first_billed_date']) }}
{% endmacro %}


{#- The dates in whose month a work record counts for the work KPIs of invoiced work
    (int_kpi_invoiced_work_computed: time to invoice, realisation), as SQL on the columns
    of int_work_items_valued (time entries and expenses: their first posted Harvest
    invoice) and of int_work_items_billed (milestones: their first posted invoice). -#}
{% macro invoiced_work_dates() %}
    {{ return({'valued': 'harvest_invoice_date',
               'billed': "case when work_item_kind = 'milestone' then first_posted_date end"}) }}
{% endmacro %}


{#- SQL (a query of one column, `name`): the values of the work records this narrowed
    rebuild reaches, as they had them (noted in `taktgeber_meta.reached__<model>__<note>`
    by the `valued` and `billed` models' pre_hooks when they deleted their rows) and have
    them now (`expressions`: SQL on each model's columns, by 'valued' and 'billed'); the
    billed model's only when milestones are reached (it holds them; the valued model holds
    time entries and expenses). Distinct; may hold a null. -#}
{% macro reached_old_and_new(name, note, expressions, valued, billed) %}
    {%- set models = [('valued', valued)] + ([('billed', billed)] if reaches_kind('milestone') else []) %}
    {%- for key, model in models %}
    {#- the billed model's note is missing until its first narrowed rebuild #}
    {%- if key == 'valued' or meta_table_exists('reached__' ~ model.identifier ~ '__' ~ note) %}
    {{ 'union' if not loop.first }}
    select {{ name }} from taktgeber_meta.reached__{{ model.identifier }}__{{ note }}
    where invocation_id = '{{ invocation_id }}'
    {%- endif %}
    union
    select {{ name }} from ({{ reached_rows(
        model, 'harvest_time_entry_id', 'work_item_id', 'taktgeber_meta.reached__' ~ model.identifier,
        columns=expressions[key] ~ ' as ' ~ name) }})
    {%- endfor %}
{%- endmacro %}


{#- SQL (a query): the distinct months (YYYY-MM) of the dates `query` selects as
    `noted_date` (nulls left out), with this invocation's id. -#}
{% macro months_of_dates(query) %}
    select distinct strftime(dated.noted_date, '%Y-%m') as month, '{{ invocation_id }}' as invocation_id
    from ({{ query }}) as dated
    where dated.noted_date is not null
{%- endmacro %}


{#- pre_hook of the work KPIs of invoiced work (time to invoice and realisation, a row
    per month and customer: a record counts only in the month of its first posted
    invoice, `invoiced_work_dates()`). A narrowed rebuild recomputes the months of those
    dates a reached record had (noted by the `valued` and `billed` models' pre_hooks when
    they deleted its rows) or has now: a day's new time entries, billed on no invoice,
    reach no month; a voided invoice the months its work was first invoiced in. It notes
    them (one row: `first_month`, the list `months`) and deletes their rows and those of
    months no longer in the spine. Any other incremental run deletes every row. -#}
{% macro delete_rows_of_reached_invoice_months(valued, billed, spine) %}
    {%- if this is none or not is_incremental() -%}
    select 1
    {%- elif rebuild_is_narrowed() -%}
    {%- set dates = invoiced_work_dates() -%}
    {%- set valued = ref(valued) -%}
    {%- set billed = ref(billed) -%}
    {%- set noted = 'taktgeber_meta.reached__' ~ this.identifier -%}
    create or replace table {{ noted }} as
    with invoice_months as (
        {{ reached_old_and_new('month', 'months', {
            'valued': "strftime(" ~ dates['valued'] ~ ", '%Y-%m')",
            'billed': "strftime(" ~ dates['billed'] ~ ", '%Y-%m')"}, valued, billed) }}
    )
    select
        min(invoice_months.month) as first_month,
        coalesce(list(invoice_months.month order by invoice_months.month), []) as months,
        '{{ invocation_id }}' as invocation_id
    from invoice_months
    where invoice_months.month is not null;
    delete from {{ this }}
    where month in (select unnest(noted.months) from {{ noted }} as noted)
        or month not in (select month from {{ ref(spine) }})
    {%- else -%}
    delete from {{ this }}
    {%- endif -%}
{%- endmacro %}


{#- SQL (a condition on `month`): the months this narrowed rebuild reaches, as the
    pre_hook above noted them. -#}
{% macro in_reached_invoice_months() %}
    month in (select unnest(noted.months) from taktgeber_meta.reached__{{ this.identifier }} as noted)
{%- endmacro %}


{#- The customer a work record counts for in the stock work KPIs (int_kpi_work_computed),
    as SQL on the columns of int_work_items_valued (time entries and expenses) and of
    int_work_items_billed (milestones; null on its other rows). -#}
{% macro work_kpi_customers() %}
    {{ return({'valued': 'customer_id',
               'billed': "case when work_item_kind = 'milestone' then coalesce(hubspot_company_id, '(unlinked)') end"}) }}
{% endmacro %}


{#- SQL (a condition on a customer column of the work KPIs' inputs): the customers this
    narrowed rebuild reaches, as the work KPIs' pre_hook noted them. -#}
{% macro in_reached_work_customers(column) %}
    {{ column }} in (select unnest(noted.customers) from taktgeber_meta.reached__{{ this.identifier }} as noted)
{%- endmacro %}


{#- pre_hook of the stock work KPIs (a row per month and customer, and the whole company's,
    '*'; a record counts for its customer from its spent date on, until it is billed). A
    narrowed rebuild reaches the months from the earliest of `work_kpi_month_dates()` a
    reached entry had (noted by the `valued` model's pre_hook when it deleted their rows)
    or has now, and of `milestone_kpi_month_dates()` a reached milestone had (noted by the
    `billed` model's pre_hook) or has now; and the customers (`work_kpi_customers()`) a
    reached record had (noted the same way) or has now. It notes them (`first_month`, the
    list `customers`) and deletes, from the first month, the rows of those customers and
    of the whole company (its totals are the sum of every customer's), and the rows of
    months no longer in the spine. Any other incremental run deletes every row. -#}
{% macro delete_rows_of_reached_months(valued, billed) %}
    {%- set dates = work_kpi_month_dates() -%}
    {%- set milestone_dates = milestone_kpi_month_dates() -%}
    {%- if this is none or not is_incremental() -%}
    select 1
    {%- elif rebuild_is_narrowed() -%}
    {%- set valued = ref(valued) -%}
    {%- set billed = ref(billed) -%}
    {%- set customers = work_kpi_customers() -%}
    {%- set milestones = reaches_kind('milestone') -%}
    {%- set noted_by_billed = milestones and meta_table_exists('reached__' ~ billed.identifier ~ '__first_date') -%}
    {%- set noted = 'taktgeber_meta.reached__' ~ this.identifier -%}
    {#- the reached records' rows now, read once for their first date and their customer
        (a read per note scanned the 10.8M valued rows twice over at 10m) #}
    create or replace table {{ noted }} as
    with reached_valued as materialized (
        select least({{ dates | join(', ') }}) as first_date, customer_id
        from ({{ reached_rows(
            valued, 'harvest_time_entry_id', 'work_item_id', 'taktgeber_meta.reached__' ~ valued.identifier,
            columns=dates | join(', ') ~ ', ' ~ customers['valued'] ~ ' as customer_id') }})
    ),
    {%- if milestones %}
    reached_milestones as materialized (
        select least({{ milestone_dates | join(', ') }}) as first_date, customer_id
        from ({{ reached_rows(
            billed, 'harvest_time_entry_id', 'work_item_id', 'taktgeber_meta.reached__' ~ billed.identifier,
            columns='work_item_kind, ' ~ milestone_dates | join(', ') ~ ', ' ~ customers['billed'] ~ ' as customer_id') }})
        where work_item_kind = 'milestone'
    ),
    {%- endif %}
    first_dates as (
        select first_date
        from taktgeber_meta.reached__{{ valued.identifier }}__first_date
        where invocation_id = '{{ invocation_id }}'
        union all
        select first_date from reached_valued
        {%- if noted_by_billed %}
        union all
        select first_date
        from taktgeber_meta.reached__{{ billed.identifier }}__first_date
        where invocation_id = '{{ invocation_id }}'
        {%- endif %}
        {%- if milestones %}
        union all
        select first_date from reached_milestones
        {%- endif %}
    ),
    customers as (
        select customer_id
        from taktgeber_meta.reached__{{ valued.identifier }}__customers
        where invocation_id = '{{ invocation_id }}'
        union
        select customer_id from reached_valued
        {%- if milestones and meta_table_exists('reached__' ~ billed.identifier ~ '__customers') %}
        union
        select customer_id
        from taktgeber_meta.reached__{{ billed.identifier }}__customers
        where invocation_id = '{{ invocation_id }}'
        {%- endif %}
        {%- if milestones %}
        union
        select customer_id from reached_milestones
        {%- endif %}
    )
    select
        (select strftime(min(first_dates.first_date), '%Y-%m') from first_dates) as first_month,
        (
            select coalesce(list(customers.customer_id order by customers.customer_id), [])
            from customers
            where customers.customer_id is not null
        ) as customers,
        '{{ invocation_id }}' as invocation_id;
    {#- the reached customers' rows and the whole company's, from the first month #}
    delete from {{ this }}
    where (
            month >= {{ reached_first_month() }}
            and (hubspot_company_id = '*' or {{ in_reached_work_customers('hubspot_company_id') }})
        )
        or month not in (select month from {{ ref('int_kpi_months_spined') }})
    {%- else -%}
    delete from {{ this }}
    {%- endif -%}
{%- endmacro %}


{#- SQL (a query): per month (YYYY-MM), a hash sum of what receivables at month end and DSO
    read of the invoices (`invoices`: int_invoices_receivable_measured, by invoice month)
    and of their payments and credit allocations (`settlements`, by settlement month); in
    the row of month '0000-00', the customers with an invoice dated by as_of (every month
    has a row per customer). A change in month m changes receivables from month m on, and
    DSO too (its walk and its 90 days look back from the month, never forward). -#}
{% macro receivable_inputs_by_month(invoices, settlements) %}
    with hashed as (
        select
            strftime(invoices.invoice_date, '%Y-%m') as month,
            cast(hash(
                invoices.xero_invoice_id, invoices.hubspot_company_id, invoices.invoice_date,
                invoices.invoice_month, invoices.total, invoices.units_per_eur, invoices.total_eur
            ) as hugeint) as row_hash
        from {{ ref(invoices) }} as invoices
        union all
        select
            coalesce(strftime(settlements.settlement_date, '%Y-%m'), '9999-99'),
            cast(hash(settlements.xero_invoice_id, settlements.settlement_date, settlements.amount) as hugeint)
        from {{ ref(settlements) }} as settlements
        union all
        select '0000-00', cast(hash(customers.hubspot_company_id) as hugeint)
        from (
            select distinct coalesce(invoices.hubspot_company_id, '(unlinked)') as hubspot_company_id
            from {{ ref(invoices) }} as invoices
            where invoices.invoice_date <= {{ as_of_date() }}
        ) as customers
    )
    select hashed.month, cast(sum(hashed.row_hash) as varchar) as fingerprint
    from hashed
    group by hashed.month
{%- endmacro %}


{#- pre_hook of receivables at month end: a narrowed rebuild recomputes the months from the
    first one whose inputs changed (`receivable_inputs_by_month`, against the ones the
    last build noted), or every month when the spine changed; none when neither did (a
    day's time entries reach these rows only through the spine). It notes that month and
    deletes the rows of it and later ones, and of months no longer in the spine; the model
    selects `month >= {{ reached_first_month() }}`. Any other incremental run deletes
    every row. -#}
{% macro delete_rows_of_changed_receivable_months(spine, invoices, settlements) %}
    {%- if this is none or not is_incremental() -%}
    select 1
    {%- elif rebuild_is_narrowed() -%}
    {%- set seen_spine = 'taktgeber_meta.spine_of__' ~ this.identifier -%}
    {%- set seen_inputs = 'taktgeber_meta.inputs_of__' ~ this.identifier -%}
    {%- if meta_table_exists('spine_of__' ~ this.identifier)
        and meta_table_exists('inputs_of__' ~ this.identifier) -%}
    {%- set first_month -%}
        with now as (
            {{ receivable_inputs_by_month(invoices, settlements) }}
        ),
        changed_months as (
            select coalesce(now.month, seen.month) as month
            from now
            full outer join {{ seen_inputs }} as seen
                on now.month = seen.month
            where now.fingerprint is distinct from seen.fingerprint
        )
        select
            case
                when exists (
                    (select * from {{ ref(spine) }} except select * from {{ seen_spine }})
                    union all
                    (select * from {{ seen_spine }} except select * from {{ ref(spine) }})
                ) then '0000-00'
                else (select min(changed_months.month) from changed_months)
            end as first_month
    {%- endset -%}
    {%- else -%}
    {%- set first_month = "select '0000-00' as first_month" -%}
    {%- endif -%}
    {{ note_first_month_and_delete(first_month, spine) }}
    {%- else -%}
    delete from {{ this }}
    {%- endif -%}
{%- endmacro %}


{#- post_hook of receivables at month end: the spine and the inputs per month its rows
    were built from. -#}
{% macro note_receivables_built_from(spine, invoices, settlements) %}
    create schema if not exists taktgeber_meta;
    create or replace table taktgeber_meta.spine_of__{{ this.identifier }} as
    select * from {{ ref(spine) }};
    create or replace table taktgeber_meta.inputs_of__{{ this.identifier }} as
    {{ receivable_inputs_by_month(invoices, settlements) }}
{%- endmacro %}


{#- post_hook of a per-month model built whole whenever its inputs change (the invoice
    KPIs): keeps the hash sum per month of the rows the last build left
    (`taktgeber_meta.rows_before__<model>`) and of the rows it holds now (`rows_of__…`,
    its comment names this invocation), so the per-customer KPI mart recomputes only the
    months whose rows changed (`first_month_rebuilt_differently`). -#}
{% macro note_rows_by_month() %}
    create schema if not exists taktgeber_meta;
    create table if not exists taktgeber_meta.rows_of__{{ this.identifier }} (month varchar, fingerprint varchar);
    create or replace table taktgeber_meta.rows_before__{{ this.identifier }} as
    select * from taktgeber_meta.rows_of__{{ this.identifier }};
    create or replace table taktgeber_meta.rows_of__{{ this.identifier }} as
    select rebuilt.month, cast(sum(cast(hash(rebuilt) as hugeint)) as varchar) as fingerprint
    from {{ this }} as rebuilt
    group by rebuilt.month;
    comment on table taktgeber_meta.rows_of__{{ this.identifier }} is '{{ invocation_id }}'
{%- endmacro %}


{#- SQL (a query, one row, `first_month`): the first month whose rows `model` (with the
    post_hook above) rebuilt differently in this invocation; null when it was not
    rebuilt now or no month changed. -#}
{% macro first_month_rebuilt_differently(model) %}
    {%- set noted = 'taktgeber_meta.rows_of__' ~ ref(model).identifier -%}
    {%- set before = 'taktgeber_meta.rows_before__' ~ ref(model).identifier -%}
    select
        case
            when coalesce((
                select noted.comment
                from duckdb_tables() as noted
                where noted.database_name = current_database()
                    and noted.schema_name = 'taktgeber_meta'
                    and noted.table_name = 'rows_of__{{ ref(model).identifier }}'
            ), '') = '{{ invocation_id }}'
            then (
                select min(coalesce(now.month, before.month))
                from {{ noted }} as now
                full outer join {{ before }} as before
                    on now.month = before.month
                where now.fingerprint is distinct from before.fingerprint
            )
        end as first_month
{%- endmacro %}


{#- pre_hook of the per-customer KPI mart (a row per month, customer and KPI, from the KPI
    models' rows of that month, `kpis_in_long_format`): a narrowed rebuild recomputes the months from the first
    one the work KPIs, those of invoiced work or the receivables recomputed
    (`delete_rows_of_reached_months`, `delete_rows_of_reached_invoice_months`,
    `delete_rows_of_changed_receivable_months` noted them), or the invoice KPIs (`rebuilt`,
    built whole) rebuilt differently (`first_month_rebuilt_differently`); every month
    when a note is missing. It deletes their rows and those of months no longer in the
    spine. The model selects `month >= {{ reached_first_month() }}`. Any other
    incremental run deletes every row. -#}
{% macro delete_rows_of_reached_kpi_months(work, invoiced_work, receivables, rebuilt, spine) %}
    {%- if this is none or not is_incremental() -%}
    select 1
    {%- elif rebuild_is_narrowed() -%}
    {#- a model this invocation did not build has no note of it (none at all before its
        first narrowed rebuild: a day of payments only does not build the work KPIs) #}
    {%- set notes = {} -%}
    {%- for name, model in [('work', work), ('invoiced_work', invoiced_work), ('receivables', receivables)] -%}
        {%- if meta_table_exists('reached__' ~ ref(model).identifier) -%}
            {%- do notes.update({name: "select noted.first_month from taktgeber_meta.reached__"
                ~ ref(model).identifier ~ " as noted where noted.invocation_id = '" ~ invocation_id ~ "'"}) -%}
        {%- else -%}
            {%- do notes.update({name: "select null::varchar as first_month where false"}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set first_month -%}
        with work as (
            {{ notes['work'] }}
        ),
        invoiced_work as (
            {{ notes['invoiced_work'] }}
        ),
        receivables as (
            {{ notes['receivables'] }}
        ),
        rebuilt as (
            {%- if meta_table_exists('rows_before__' ~ ref(rebuilt).identifier) %}
            {{ first_month_rebuilt_differently(rebuilt) }}
            {%- else %}
            select '0000-00' as first_month
            {%- endif %}
        )
        select
            case
                when not exists (select 1 from work)
                    or not exists (select 1 from invoiced_work)
                    or not exists (select 1 from receivables)
                    then '0000-00'
                -- least() passes over a null (nothing recomputed there)
                else least(
                    (select work.first_month from work),
                    (select invoiced_work.first_month from invoiced_work),
                    (select receivables.first_month from receivables),
                    (select rebuilt.first_month from rebuilt)
                )
            end as first_month
    {%- endset -%}
    {{ note_first_month_and_delete(first_month, spine) }}
    {%- else -%}
    delete from {{ this }}
    {%- endif -%}
{%- endmacro %}


{#- pre_hook of a model whose rows of a month are a function of `upstream`'s rows of that
    month and the months before (DSO, from the receivables): a
    narrowed rebuild recomputes the months `upstream` recomputed (from the first month its
    pre_hook noted; every month when it noted none this invocation) and deletes their rows
    and those of months no longer in the spine. Any other incremental run deletes every
    row. -#}
{% macro delete_rows_of_upstream_months(upstream, spine) %}
    {%- if this is none or not is_incremental() -%}
    select 1
    {%- elif rebuild_is_narrowed() -%}
    {%- set noted -%}
        taktgeber_meta.reached__{{ ref(upstream).identifier }} as noted
        where noted.invocation_id = '{{ invocation_id }}'
    {%- endset -%}
    {%- set first_month -%}
        select
            case
                when exists (select 1 from {{ noted }}) then (select noted.first_month from {{ noted }})
                else '0000-00'
            end as first_month
    {%- endset -%}
    {{ note_first_month_and_delete(first_month, spine) }}
    {%- else -%}
    delete from {{ this }}
    {%- endif -%}
{%- endmacro %}


{#- The narrowed part of a per-month reach pre_hook: notes for this invocation the first
    month it recomputes (`first_month_query`: SQL, one row with a `first_month` column,
    YYYY-MM; null: none), then deletes the rows of that month and later, and of months no
    longer in the spine. The model selects `month >= {{ reached_first_month() }}`. -#}
{% macro note_first_month_and_delete(first_month_query, spine) %}
    create or replace table taktgeber_meta.reached__{{ this.identifier }} as
    select noted.first_month, '{{ invocation_id }}' as invocation_id
    from ({{ first_month_query }}) as noted;
    delete from {{ this }}
    where month >= {{ reached_first_month() }}
        or month not in (select month from {{ ref(spine) }})
{%- endmacro %}

{#- Reach: what a rebuild after a day's time entries recomputes below the staged entries.

    When a build's only changed input is `raw_harvest.time_entries` (taktgeber.build runs
    dbt with TAKTGEBER_CHANGED_SOURCES naming the changed sources; same code, seeds, vars
    and as_of as the last passing build), a per-record model keyed by time entry need not
    recompute every record: only the rows of the entries that changed can differ. The same
    holds when Xero changed too but not in anything these models read of it (payments, an
    invoice paid: `rebuild_reaches_only_time_entries`, `int_xero_invoices_fingerprinted`);
    then no entry at all may be reached. Such a
    model is `incremental` with `incremental_strategy: append` and
    `pre-hook: "{{ delete_reached_rows('harvest_time_entry_id') }}"` (dbt_project.yml,
    `&incremental_by_reach`):

    - narrowed rebuild: the hook notes the reached entries (in
      `taktgeber_meta.reached__<model>`), deletes the model's rows of them, and the model
      selects only those entries (`{% if rebuild_reaches_only_time_entries() %}` …
      `in {{ reached_time_entries() }}`);
    - any other incremental run (other sources, code, seeds or as_of changed, or dbt run by
      hand without the variable): the hook deletes every row and the model selects
      everything, the same result as a table build;
    - first build or `--full-refresh`: a plain table build.

    The reached entries are the ones restaged by this dbt invocation (their
    `staged_in_invocation`) and the ones it deleted from the staged entries (deleted in
    Harvest, noted by the staging model). Models whose rows depend on groups of entries
    reach whole groups: corrections the invoices that billed a reached entry before or
    bill one now (`delete_rows_of_reached_invoices`), draft items the customer months a
    reached entry was or may now be drafted in (`delete_rows_of_reached_customer_months`)
    and so the draft lines (`delete_rows_of_upstream_customer_months`),
    the work KPIs the months from the earliest date a reached entry had or has
    (`delete_rows_of_reached_months`), the KPI rows in long format those months
    (`delete_rows_of_reached_kpi_months`) and so the per-customer KPI mart
    (`delete_rows_of_upstream_months`). Receivables and DSO read time entries only
    through the month spine: they recompute every month when it changed, else the months
    from the first one whose invoices, payments or credit allocations changed
    (`delete_rows_of_changed_receivable_months`), none after time entries alone. Primary-key tests of the per-entry models check
    the keys the rebuild wrote, and the tests of the per-month models the months it wrote
    (`narrow_to`, macros/generic_tests.sql). -#}

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


{#- The sources changed since the last passing build, as taktgeber.build named them
    (empty: every source may have changed). -#}
{% macro changed_sources() %}
    {%- set changed = env_var('TAKTGEBER_CHANGED_SOURCES', '') -%}
    {{ return(changed.split(',') if changed else []) }}
{%- endmacro %}


{#- The Xero sources a narrowed rebuild may follow: what the per-entry models read of them
    is in `int_xero_invoices_fingerprinted` (invoices, their lines, the credit allocated to
    them), or nothing (payments: only the enriched invoices' paid and due amounts, which
    they do not read; journals). -#}
{% macro xero_sources_reach_may_pass() %}
    {{ return([
        'raw_xero.invoices', 'raw_xero.invoices__line_items', 'raw_xero.payments',
        'raw_xero.credit_notes', 'raw_xero.credit_notes__allocations',
        'raw_xero.journals', 'raw_xero.journal_lines',
    ]) }}
{%- endmacro %}


{#- Whether the per-entry models can keep the rows of every entry this build does not
    restage: on an incremental run, when the only changed sources are time entries and
    Xero sources whose changes leave what those models read of Xero as it was (payments,
    an invoice paid; `xero_unchanged_for_work_items`). -#}
{% macro rebuild_reaches_only_time_entries() %}
    {#- a dbt unit test renders the model with no relation of its own (`this` is none) -#}
    {%- if this is none or not is_incremental() -%}
        {{ return(false) }}
    {%- endif -%}
    {%- if changed_sources() == ['raw_harvest.time_entries'] -%}
        {{ return(true) }}
    {%- endif -%}
    {{ return(changes_reach_may_pass() and xero_unchanged_for_work_items()) }}
{%- endmacro %}


{#- Whether every changed source is time entries or one of `xero_sources_reach_may_pass`
    (so a rebuild may be narrowed; false when every source may have changed). -#}
{% macro changes_reach_may_pass() %}
    {%- set changed = changed_sources() -%}
    {%- set passable = ['raw_harvest.time_entries'] + xero_sources_reach_may_pass() -%}
    {{ return(changed | length > 0 and changed | reject('in', passable) | list | length == 0) }}
{%- endmacro %}


{#- Whether what the per-entry models read of Xero is as the last build left it: the
    fingerprint `int_xero_invoices_fingerprinted` built in this dbt invocation equals the
    one its pre_hook noted, or the fingerprint was not rebuilt (none of its inputs
    changed). Asked when each narrowed model is compiled, after the fingerprint's build
    (int_work_billings_linked and int_receivables_month_ended depend on it, and every
    other caller on one of them). -#}
{% macro xero_unchanged_for_work_items() %}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {#- from the graph, not ref(): a ref here would be a dependency of every caller -#}
    {%- set fingerprint = graph.nodes['model.' ~ project_name ~ '.int_xero_invoices_fingerprinted'] -%}
    {%- if not meta_table_exists('before__' ~ fingerprint.alias) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set same = run_query(
        "select coalesce(("
        ~ " select before.invoices is not distinct from now.invoices"
        ~ " and before.fingerprint is not distinct from now.fingerprint"
        ~ " from taktgeber_meta.before__" ~ fingerprint.alias ~ " as before"
        ~ " cross join " ~ fingerprint.relation_name ~ " as now"
        ~ " where before.invocation_id = '" ~ invocation_id ~ "'"
        ~ "), true)") -%}
    {{ return(same.columns[0].values()[0]) }}
{%- endmacro %}


{#- pre_hook of `int_xero_invoices_fingerprinted`: notes, with this invocation's id, the
    fingerprint the last build left (nulls on a first build). -#}
{% macro note_fingerprint_before() %}
    create schema if not exists taktgeber_meta;
    create or replace table taktgeber_meta.before__{{ this.identifier }} as
    {%- if load_relation(this) is not none %}
    select invoices, fingerprint, '{{ invocation_id }}' as invocation_id
    from {{ this }}
    {%- else %}
    select null::bigint as invoices, null::varchar as fingerprint, '{{ invocation_id }}' as invocation_id
    {%- endif %}
{%- endmacro %}


{#- SQL (a query): the time entries restaged by this dbt invocation, and those it deleted
    from the staged entries (gone from Harvest), as the staging model's post_hook noted
    them. A narrowed rebuild follows a passing build, after which every model here held
    exactly the staged entries: these are all the entries whose rows can differ. -#}
{% macro changed_or_vanished_entries() %}
    {%- set staged = ref('stg_harvest__time_entries') -%}
    {%- if 'raw_harvest.time_entries' not in changed_sources() -%}
    select cast(null as bigint) as harvest_time_entry_id
    where false {#- only Xero changed: no entry was restaged #}
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


{#- SQL: the ids of the time entries this narrowed rebuild reaches, as the pre_hook noted
    them (before it deleted their rows). -#}
{% macro reached_time_entries() %}
    (select harvest_time_entry_id from taktgeber_meta.reached__{{ this.identifier }})
{%- endmacro %}


{#- pre_hook of a reach-incremental model. `entry_key`: its time entry id column (null on
    rows of other records). A narrowed rebuild notes the reached entries — restaged by this
    dbt invocation, or held by this model but no longer staged (deleted in Harvest) — and
    deletes their rows; any other incremental run deletes every row. Before deleting,
    `note_invoices` notes the invoices of those rows, `note_first_date` (date columns) the
    earliest of those dates on them. -#}
{% macro delete_reached_rows(entry_key, note_invoices=false, note_first_date=none) %}
    {%- if this is none or not is_incremental() -%}
    select 1
    {%- elif rebuild_reaches_only_time_entries() -%}
    create schema if not exists taktgeber_meta;
    create or replace table taktgeber_meta.reached__{{ this.identifier }} as
    select reached.harvest_time_entry_id, '{{ invocation_id }}' as invocation_id
    from ({{ changed_or_vanished_entries() }}) as reached;
    {#- the invocation that noted them, also when it reached none (a day of Xero changes only) #}
    comment on table taktgeber_meta.reached__{{ this.identifier }} is '{{ invocation_id }}';
    {%- if note_invoices %}
    create or replace table taktgeber_meta.reached__{{ this.identifier }}__invoices as
    select distinct xero_invoice_id, '{{ invocation_id }}' as invocation_id
    from {{ this }}
    where {{ entry_key }} in (select harvest_time_entry_id from taktgeber_meta.reached__{{ this.identifier }});
    {%- endif %}
    {%- if note_first_date %}
    create or replace table taktgeber_meta.reached__{{ this.identifier }}__first_date as
    select min(least({{ note_first_date | join(', ') }})) as first_date, '{{ invocation_id }}' as invocation_id
    from {{ this }}
    where {{ entry_key }} in (select harvest_time_entry_id from taktgeber_meta.reached__{{ this.identifier }});
    {%- endif %}
    delete from {{ this }}
    where {{ entry_key }} in (select harvest_time_entry_id from taktgeber_meta.reached__{{ this.identifier }})
    {%- else -%}
    delete from {{ this }}
    {%- endif -%}
{%- endmacro %}


{#- SQL: the invoices this narrowed rebuild reaches, as the pre_hook below noted them. -#}
{% macro reached_invoices() %}
    (select xero_invoice_id from taktgeber_meta.reached__{{ this.identifier }})
{%- endmacro %}


{#- pre_hook of a model keyed by invoice (corrections): a narrowed rebuild reaches the
    invoices that billed a reached entry before this build (noted by the billings model's
    pre_hook when it deleted their links) or bill one now, and deletes their rows; any
    other incremental run deletes every row. -#}
{% macro delete_rows_of_reached_invoices() %}
    {%- if this is none or not is_incremental() -%}
    select 1
    {%- elif rebuild_reaches_only_time_entries() -%}
    {%- set billings = ref('int_work_billings_linked') -%}
    create or replace table taktgeber_meta.reached__{{ this.identifier }} as
    select xero_invoice_id
    from taktgeber_meta.reached__{{ billings.identifier }}__invoices
    where invocation_id = '{{ invocation_id }}'
    union
    select xero_invoice_id
    from {{ billings }}
    where harvest_time_entry_id in (select harvest_time_entry_id from taktgeber_meta.reached__{{ billings.identifier }});
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
    customer month a reached entry was drafted in before or may be drafted in now, and
    the customer months of the rows whose project's over-budget flag changed; it deletes
    their rows. Any other incremental run deletes every row. -#}
{% macro delete_rows_of_reached_customer_months() %}
    {%- if this is none or not is_incremental() -%}
    select 1
    {%- elif rebuild_reaches_only_time_entries() -%}
    create or replace table taktgeber_meta.reached__{{ this.identifier }} as
    with reached_entries as (
        {{ changed_or_vanished_entries() }}
    )
    select drafted.hubspot_company_id, cast(drafted.billing_month || '-01' as date) as month_start
    from {{ this }} as drafted
    where drafted.harvest_time_entry_id in (select harvest_time_entry_id from reached_entries)
    union
    select work_items.hubspot_company_id, date_trunc('month', work_items.work_date)
    from {{ ref('int_work_items_billed') }} as work_items
    where work_items.harvest_time_entry_id in (select harvest_time_entry_id from reached_entries)
        and work_items.hubspot_company_id is not null
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
    {%- elif rebuild_reaches_only_time_entries() -%}
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
    budgets), first invoice (WIP ends), first posted Harvest invoice (time to invoice,
    realisation). Columns of int_work_items_valued. -#}
{% macro work_kpi_month_dates() %}
    {{ return(['spent_date', 'first_billed_date', 'harvest_invoice_date']) }}
{% endmacro %}


{#- pre_hook of the work KPIs (a row per month and customer; a record counts from its spent
    date on, in the month of its invoice, and until it is billed). A narrowed rebuild
    reaches the months from the earliest of `work_kpi_month_dates()` a reached entry had (noted by
    the `valued` model's pre_hook when it deleted their rows) or has now, and the months no
    longer in the spine; it deletes their rows. Any other incremental run deletes every
    row. -#}
{% macro delete_rows_of_reached_months(valued) %}
    {%- set dates = work_kpi_month_dates() -%}
    {%- if this is none or not is_incremental() -%}
    select 1
    {%- elif rebuild_reaches_only_time_entries() -%}
    {%- set valued = ref(valued) -%}
    {%- set first_month -%}
        with first_dates as (
            select first_date
            from taktgeber_meta.reached__{{ valued.identifier }}__first_date
            where invocation_id = '{{ invocation_id }}'
            union all
            select least({{ dates | join(', ') }})
            from {{ valued }}
            where harvest_time_entry_id in (select harvest_time_entry_id from taktgeber_meta.reached__{{ valued.identifier }})
        )
        select strftime(min(first_dates.first_date), '%Y-%m') as first_month
        from first_dates
    {%- endset -%}
    {{ note_first_month_and_delete(first_month, 'int_kpi_months_spined') }}
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
    {%- elif rebuild_reaches_only_time_entries() -%}
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
    its comment names this invocation), so the KPIs in long format recompute only the
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


{#- pre_hook of the KPIs in long format (a row per month, scope and KPI, from the KPI
    models' rows of that month): a narrowed rebuild recomputes the months from the first
    one the work KPIs or the receivables recomputed (`delete_rows_of_reached_months`,
    `delete_rows_of_changed_receivable_months` noted them), or the invoice KPIs (`rebuilt`,
    built whole) rebuilt differently (`first_month_rebuilt_differently`); every month
    when a note is missing. It deletes their rows and those of months no longer in the
    spine. The model selects `month >= {{ reached_first_month() }}`. Any other
    incremental run deletes every row. -#}
{% macro delete_rows_of_reached_kpi_months(work, receivables, rebuilt, spine) %}
    {%- if this is none or not is_incremental() -%}
    select 1
    {%- elif rebuild_reaches_only_time_entries() -%}
    {%- set first_month -%}
        with work as (
            select noted.first_month
            from taktgeber_meta.reached__{{ ref(work).identifier }} as noted
            where noted.invocation_id = '{{ invocation_id }}'
        ),
        receivables as (
            select noted.first_month
            from taktgeber_meta.reached__{{ ref(receivables).identifier }} as noted
            where noted.invocation_id = '{{ invocation_id }}'
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
                when not exists (select 1 from work) or not exists (select 1 from receivables)
                    then '0000-00'
                -- least() passes over a null (nothing recomputed there)
                else least(
                    (select work.first_month from work),
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
    month alone (the per-customer KPI mart, a filter of the KPIs in long format): a
    narrowed rebuild recomputes the months `upstream` recomputed (from the first month its
    pre_hook noted; every month when it noted none this invocation) and deletes their rows
    and those of months no longer in the spine. Any other incremental run deletes every
    row. -#}
{% macro delete_rows_of_upstream_months(upstream, spine) %}
    {%- if this is none or not is_incremental() -%}
    select 1
    {%- elif rebuild_reaches_only_time_entries() -%}
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

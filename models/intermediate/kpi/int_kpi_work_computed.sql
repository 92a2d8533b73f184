{#- The stock work KPIs per month and customer ('*' = the whole company; the customer is
    the company of the project's closed-won deal). "Month end" is the month's last day, or
    as_of_date in the as-of month; EUR via the FX seed at each record's own date. (Time to
    invoice and realisation, which count a record in the month of its first posted invoice
    only, are in int_kpi_invoiced_work_computed.)
    - unbilled_wip_eur: billable time and expenses (approved or not) spent ≤ month end and
      billed on no live invoice dated ≤ month end, valued in EUR; unbilled_wip_approved_eur
      the approved part; unbilled_wip_0_30 / 31_60 / 61_90 / 91_plus_eur by age
      (month end − spent_date, days). EUR to the cent.
    - revenue_leakage_eur: approved unbilled billable time older than 90 days and approved
      unbilled billable expenses older than 30 days (each record counted once), + rate
      under-charges ((contracted − billed rate) × hours where contracted > billed, billable
      time spent ≤ month end), + over-budget value at month end (billable time value −
      cost_budget of hourly projects of won deals, EUR at month end), + due milestones not
      invoiced more than 30 days after their due date (EUR at the due date).
    Incremental by reach (dbt_project.yml, macros/incremental/reach.sql): a rebuild after
    time entries, invoices or the push ledger changed recomputes the months from the
    earliest spent or first invoice date a reached work record had or has; earlier months
    cannot change. -#}

{%- set narrow = rebuild_is_narrowed() %}
{%- set wip_columns = [
    'unbilled_wip_eur', 'unbilled_wip_approved_eur', 'unbilled_wip_0_30_eur',
    'unbilled_wip_31_60_eur', 'unbilled_wip_61_90_eur', 'unbilled_wip_91_plus_eur'] %}

with

months as (
    select * from {{ ref('int_kpi_months_spined') }}
    {%- if narrow %}
    -- a narrowed rebuild: the months from the earliest date a reached work record had
    -- or has (macros/incremental/reach.sql)
    where month >= {{ reached_first_month() }}
    {%- endif %}
),

work_eur as {{ 'materialized' if narrow else 'not materialized' }} (
    -- time entries and expenses, valued in EUR with their first invoice dates. Not
    -- materialized in a full build: each reader scans the table with its own filters and
    -- columns instead of a 10M-row copy (15.5 s → 11.5 s at 10m).
    select * from {{ ref('int_work_items_valued') }}
    {%- if narrow %}
    -- A narrowed rebuild: the reached customers' records (every row of a customer is a
    -- function of its own records), found by one scan (one per reader took 0.96 s of a
    -- push day at 10m)
    where {{ in_reached_work_customers('customer_id') }}
    {%- endif %}
),

budgets as (
    -- hourly projects of closed-won deals with a cost budget (over_budget rule)
    select * from {{ ref('int_project_budgets_compared') }}
    where not is_fixed_fee
        and is_deal_won
        and cost_budget is not null
),

fx_rates as (
    select * from {{ ref('int_fx_rates_daily') }}
),

milestones as (
    -- payment-schedule items of closed-won fixed-price deals
    select
        work_items.hubspot_line_item_id,
        work_items.hubspot_company_id,
        work_items.currency_code,
        work_items.value as amount,
        work_items.work_date as due_date,
        work_items.billing_date,
        work_items.first_billed_date
    from {{ ref('int_work_items_billed') }} as work_items
    where work_items.work_item_kind = 'milestone'
    {%- if narrow %}
        and {{ in_reached_work_customers("coalesce(work_items.hubspot_company_id, '(unlinked)')") }}
    {%- endif %}
),

milestones_eur as (
    select
        milestones.*,
        coalesce(milestones.hubspot_company_id, '(unlinked)') as customer_id,
        cast(milestones.amount as double) / cast(fx_rates.units_per_eur as double) as amount_eur
    from milestones
    asof left join fx_rates
        on milestones.currency_code = fx_rates.currency_code
        and coalesce(milestones.due_date, milestones.billing_date) >= fx_rates.rate_date
),

work_at_month_end as (
    -- each month a (billable) record is unbilled at the month end: from the month it was
    -- spent in up to the month before its first invoice (not every month after it)
    select
        months.month,
        work_eur.customer_id,
        work_eur.work_item_kind,
        work_eur.is_approved,
        {{ kpi_exact('work_eur.value_eur') }} as value_eur,
        months.month_end - work_eur.spent_date as age_days
    from work_eur
    inner join months
        on work_eur.spent_date <= months.month_end
        and (work_eur.first_billed_date is null or work_eur.first_billed_date > months.month_end)
    where work_eur.is_billable
),

undercharged_at_month_end as (
    -- a rate under-charge counts at every month end from the month it was spent in
    select
        months.month,
        work_eur.customer_id,
        sum({{ kpi_exact('cast(work_eur.rate_gap * work_eur.hours as double) / cast(work_eur.units_per_eur as double)') }}) as undercharge_eur
    from work_eur
    inner join months
        on work_eur.spent_date <= months.month_end
    where work_eur.is_billable
        and work_eur.rate_gap > 0
    group by months.month, work_eur.customer_id
),

customer_months as (
    -- every month end from a customer's first billable record on: its WIP and leakage
    -- rows, zero when nothing is unbilled
    select
        months.month,
        first_work.customer_id
    from (
        select work_eur.customer_id, min(work_eur.spent_date) as first_spent_date
        from work_eur
        where work_eur.is_billable
        group by work_eur.customer_id
    ) as first_work
    inner join months
        on first_work.first_spent_date <= months.month_end
),

unbilled_sums as (
    select
        work_at_month_end.month,
        work_at_month_end.customer_id,
        sum(work_at_month_end.value_eur) as wip_eur,
        sum(work_at_month_end.value_eur) filter (where work_at_month_end.is_approved) as wip_approved_eur,
        sum(work_at_month_end.value_eur) filter (where work_at_month_end.age_days <= 30) as wip_0_30_eur,
        sum(work_at_month_end.value_eur) filter (where work_at_month_end.age_days between 31 and 60) as wip_31_60_eur,
        sum(work_at_month_end.value_eur) filter (where work_at_month_end.age_days between 61 and 90) as wip_61_90_eur,
        sum(work_at_month_end.value_eur) filter (where work_at_month_end.age_days >= 91) as wip_91_plus_eur,
        sum(work_at_month_end.value_eur) filter (
            where work_at_month_end.is_approved
                and work_at_month_end.age_days > case when work_at_month_end.work_item_kind = 'time' then 90 else 30 end
        ) as aged_approved_eur
    from work_at_month_end
    group by work_at_month_end.month, work_at_month_end.customer_id
),

wip_and_leakage as (
    select
        customer_months.month,
        customer_months.customer_id,
        unbilled_sums.wip_eur,
        unbilled_sums.wip_approved_eur,
        unbilled_sums.wip_0_30_eur,
        unbilled_sums.wip_31_60_eur,
        unbilled_sums.wip_61_90_eur,
        unbilled_sums.wip_91_plus_eur,
        coalesce(unbilled_sums.aged_approved_eur, 0)
            + coalesce(undercharged_at_month_end.undercharge_eur, 0) as work_leakage_eur
    from customer_months
    left join unbilled_sums
        on customer_months.month = unbilled_sums.month
        and customer_months.customer_id = unbilled_sums.customer_id
    left join undercharged_at_month_end
        on customer_months.month = undercharged_at_month_end.month
        and customer_months.customer_id = undercharged_at_month_end.customer_id
),

budget_time_by_month as (
    -- billable time value per project and month spent (up to as_of_date), with the
    -- project's customer (one per project: its closed-won deal's company); over_budget
    -- keeps the budgeted projects (a join after the sum costs less than a semi-join on
    -- every entry before it)
    select
        work_eur.harvest_project_id,
        cast(date_trunc('month', work_eur.spent_date) as date) as spent_month_start,
        sum(work_eur.value_amount) as value_amount,
        any_value(work_eur.customer_id) as customer_id
    from work_eur
    where work_eur.work_item_kind = 'time'
        and work_eur.is_billable
        and work_eur.spent_date <= (select max(months.month_end) from months)
    group by work_eur.harvest_project_id, spent_month_start
),

over_budget as (
    -- billable time spent up to each month end, over the project's cost budget
    select
        months.month,
        any_value(budget_time_by_month.customer_id) as customer_id,
        budgets.harvest_project_id,
        greatest(sum(budget_time_by_month.value_amount) - any_value(budgets.cost_budget), 0) as over_budget_amount,
        any_value(budgets.currency_code) as currency_code,
        months.month_end
    from budgets
    cross join months
    inner join budget_time_by_month
        on budgets.harvest_project_id = budget_time_by_month.harvest_project_id
        and budget_time_by_month.spent_month_start <= months.month_start
    group by months.month, months.month_end, budgets.harvest_project_id
),

over_budget_eur as (
    select
        over_budget.month,
        over_budget.customer_id,
        sum({{ kpi_exact('cast(over_budget.over_budget_amount as double) / cast(fx_rates.units_per_eur as double)') }}) as over_budget_eur
    from over_budget
    asof left join fx_rates
        on over_budget.currency_code = fx_rates.currency_code
        and over_budget.month_end >= fx_rates.rate_date
    where over_budget.over_budget_amount > 0
    group by over_budget.month, over_budget.customer_id
),

overdue_milestones as (
    select
        months.month,
        milestones_eur.customer_id,
        sum({{ kpi_exact('milestones_eur.amount_eur') }}) as overdue_milestones_eur
    from milestones_eur
    inner join months
        on milestones_eur.due_date < months.month_end
        and months.month_end - milestones_eur.due_date > 30
    where milestones_eur.first_billed_date is null
        or milestones_eur.first_billed_date > months.month_end
    group by months.month, milestones_eur.customer_id
),

leakage_parts as (
    select wip_and_leakage.month, wip_and_leakage.customer_id, wip_and_leakage.work_leakage_eur as leakage_eur from wip_and_leakage
    union all
    select over_budget_eur.month, over_budget_eur.customer_id, over_budget_eur.over_budget_eur from over_budget_eur
    union all
    select overdue_milestones.month, overdue_milestones.customer_id, overdue_milestones.overdue_milestones_eur from overdue_milestones
),

customer_rows as (
    -- a row per customer and month end with work (WIP: 0 when nothing is unbilled) or a
    -- leakage part; the sums before rounding are kept for the whole company's
    select
        leakage_by_customer.month,
        leakage_by_customer.customer_id as hubspot_company_id,
        coalesce(wip_and_leakage.wip_eur, 0) as unbilled_wip_eur_exact,
        coalesce(wip_and_leakage.wip_approved_eur, 0) as unbilled_wip_approved_eur_exact,
        coalesce(wip_and_leakage.wip_0_30_eur, 0) as unbilled_wip_0_30_eur_exact,
        coalesce(wip_and_leakage.wip_31_60_eur, 0) as unbilled_wip_31_60_eur_exact,
        coalesce(wip_and_leakage.wip_61_90_eur, 0) as unbilled_wip_61_90_eur_exact,
        coalesce(wip_and_leakage.wip_91_plus_eur, 0) as unbilled_wip_91_plus_eur_exact,
        wip_and_leakage.customer_id is not null as has_work,
        leakage_by_customer.leakage_eur as revenue_leakage_eur_exact
    from (
        select leakage_parts.month, leakage_parts.customer_id, sum(leakage_parts.leakage_eur) as leakage_eur
        from leakage_parts
        group by leakage_parts.month, leakage_parts.customer_id
    ) as leakage_by_customer
    left join wip_and_leakage
        on leakage_by_customer.month = wip_and_leakage.month
        and leakage_by_customer.customer_id = wip_and_leakage.customer_id
),

every_customer_row as (
    select * from customer_rows
    {%- if narrow %}
    union all
    -- the other customers' rows of these months, kept by the pre_hook
    select
        kept.month,
        kept.hubspot_company_id,
        {%- for column in wip_columns %}
        kept.{{ column }}_exact,
        {%- endfor %}
        kept.{{ wip_columns[0] }} is not null as has_work,
        kept.revenue_leakage_eur_exact
    from {{ this }} as kept
    where kept.month in (select months.month from months)
        and kept.hubspot_company_id != '*'
    {%- endif %}
),

whole_company as (
    -- the sum of every customer's (exact, then rounded); WIP where some customer has work
    select
        every_customer_row.month,
        '*' as hubspot_company_id,
        {%- for column in wip_columns %}
        case
            when bool_or(every_customer_row.has_work)
                then sum(every_customer_row.{{ column }}_exact) filter (where every_customer_row.has_work)
        end as {{ column }}_exact,
        {%- endfor %}
        bool_or(every_customer_row.has_work) as has_work,
        sum(every_customer_row.revenue_leakage_eur_exact) as revenue_leakage_eur_exact
    from every_customer_row
    group by every_customer_row.month
),

scoped as (
    select * from customer_rows
    union all
    select * from whole_company
),

final as (
    select
        scoped.month,
        scoped.hubspot_company_id,
        {%- for column in wip_columns %}
        case when scoped.has_work then {{ kpi_round('scoped.' ~ column ~ '_exact', 2) }} end as {{ column }},
        {%- endfor %}
        {{ kpi_round('scoped.revenue_leakage_eur_exact', 2) }} as revenue_leakage_eur,
        {%- for column in wip_columns %}
        case when scoped.has_work then scoped.{{ column }}_exact end as {{ column }}_exact,
        {%- endfor %}
        scoped.revenue_leakage_eur_exact
    from scoped
)

select * from final

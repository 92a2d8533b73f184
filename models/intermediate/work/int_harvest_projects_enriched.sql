{#- One row per Harvest project, as staged, with the one reading of its currency: the
    currency of the project's client (DESIGN.md §4: budgets and work are "in the client's
    currency") as the project carries it, else the client's own record, else EUR. Every
    model that needs a project's currency (work values, budgets, the handover checks)
    reads it here. -#}

with

projects as (

    select * from {{ ref('stg_harvest__projects') }}

),

clients as (

    select * from {{ ref('stg_harvest__clients') }}

),

final as (

    select
        projects.* replace (
            coalesce(
                nullif(projects.currency_code, ''),
                nullif(clients.currency_code, ''),
                'EUR'
            ) as currency_code
        )
    from projects
    left join clients
        on projects.harvest_client_id = clients.harvest_client_id

)

select * from final

{#- The revenue account of an invoice or credit-note line, written once. Needs the refs
    `account_roles` and `service_catalogue` in scope as CTEs of those names.
    Re-invoiced expenses: the account_roles seed's `expense_revenue` role, else var
    `expense_revenue_account_code` (SKR03 8405 "Weiterberechnete Auslagen"); time and
    milestones: the service type's revenue account, else (a milestone without a
    catalogued service type) the catalogue's first revenue account. -#}
{% macro line_account_code(kind, service_account_code) %}
    case
        when {{ kind }} = 'expense' then coalesce(
            (select min(cast(account_roles.account_code as varchar)) from account_roles where account_roles.role = 'expense_revenue'),
            '{{ var("expense_revenue_account_code", "8405") }}'
        )
        else coalesce(
            {{ service_account_code }},
            (select min(cast(service_catalogue.revenue_account_code as varchar)) from service_catalogue)
        )
    end
{%- endmacro %}

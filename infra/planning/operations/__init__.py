"""Pure builders of the operations concern: alert routing policies, alarm specs, the dashboard, the budget."""

"""Operations: where alerts go, the alarms and the dashboard, the budget."""

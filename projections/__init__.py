"""Folds from events to relationship state and history, and the SQL read model behind them."""

"""
Forecasting with windows: how much history should the model read?
==================================================================

A long multivariate series becomes supervised data with
:func:`~sklstm.windows.make_windows`: every input window of ``lookback``
timesteps is paired with the next ``horizon`` values of the target column, and
an :class:`~sklstm.LSTMRegressor` predicts all of them at once (a 2D ``y``).

How much history to read is a hyperparameter, ``seq_len``. Build the windows
once with the *longest* lookback you want to consider; ``seq_len`` then keeps
the last ``seq_len`` steps of each window, so every candidate is scored on
exactly the same samples and targets. Cross-validation must respect time:
:func:`~sklstm.windows.make_window_splitter` trains on the past only and leaves
a gap so that no training target overlaps a validation target.

Runs in about half a minute on two CPU cores.
"""

# %%
# The series: 1500 hourly readings of a target and two periodic sensors that
# drive it with a lag (from :func:`~sklstm.datasets.make_sensor_series`). The
# last 300 hours are held out for the final test.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import mean_absolute_error
from sklearn.model_selection import GridSearchCV

from sklstm import LSTMRegressor
from sklstm.datasets import make_sensor_series
from sklstm.search import fit_stats_scorers
from sklstm.windows import make_window_splitter, make_windows

LOOKBACK, HORIZON = 48, 6  # read up to two days, forecast the next 6 hours
series = make_sensor_series(n_timesteps=1500, n_features=3, as_frame=True, random_state=0)
train, test = series.iloc[:1200], series.iloc[1200 - LOOKBACK:]  # test windows need history

X_train, y_train, t_train = make_windows(train, LOOKBACK, horizon=HORIZON,
                                         target="target", return_index=True)
X_test, y_test, t_test = make_windows(test, LOOKBACK, horizon=HORIZON,
                                      target="target", return_index=True)
print(f"train windows {X_train.shape} -> targets {y_train.shape}")
print(f"test windows {X_test.shape}, first forecast starts at {t_test[0]}")

# %%
# The search: ``seq_len`` from 6 hours to the full 48. The splitter's gap is
# ``horizon - 1`` windows: consecutive windows share 5 of their 6 targets, so
# without it the last training windows would hold validation targets.
cv = make_window_splitter(n_splits=3, horizon=HORIZON)
print(cv)
# (a fixed budget of 15 epochs for every candidate, ``tol=None``: no stopping rule, so no
# fit warns that it did not converge within it). The fit time is each fit's own
# ``fit_time_`` (``fit_stats_scorers``): scikit-learn's ``mean_fit_time`` would also count
# what the first fit in each worker process pays once (importing part of torch, seconds)
# and make the first candidate look twice as slow as it is.
model = LSTMRegressor(hidden_size=32, max_epochs=15, tol=None, lr=0.005, batch_size=32,
                      n_threads=1, random_state=0)
search = GridSearchCV(model, {"seq_len": [6, 12, 24, 48]}, cv=cv, n_jobs=2,
                      scoring=fit_stats_scorers("neg_mean_absolute_error", "fit_time"),
                      refit="score").fit(X_train, y_train)
results = pd.DataFrame({
    "seq_len": search.cv_results_["param_seq_len"],
    "CV MAE": -search.cv_results_["mean_test_score"],
    "fit time (s)": search.cv_results_["mean_test_fit_time"],
})
print(results.to_string(index=False, float_format="%.3f"))
print("best:", search.best_params_)

# %%
# Held-out test: the refitted best model against persistence (repeat the last
# observed target value for all 6 hours), the usual baseline for forecasts.
forecast = search.predict(X_test)
persistence = np.repeat(X_test[:, -1, :1], HORIZON, axis=1)  # column 0 is the target
per_step = pd.DataFrame({
    "LSTM": [mean_absolute_error(y_test[:, h], forecast[:, h]) for h in range(HORIZON)],
    "persistence": [mean_absolute_error(y_test[:, h], persistence[:, h])
                    for h in range(HORIZON)],
}, index=pd.RangeIndex(1, HORIZON + 1, name="hours ahead"))
print(per_step.round(3).to_string())

# %%
# Error by forecast step, and a few forecasts drawn over the true series.
fig, (ax_err, ax_fc) = plt.subplots(1, 2, figsize=(10, 3.5))
per_step.plot(ax=ax_err, marker="o")
ax_err.set(ylabel="test MAE", title="Error grows with the horizon")
ax_fc.plot(series.index[1200:1296], series["target"].iloc[1200:1296], color="black",
           label="target")
for start in range(0, 96 - HORIZON, 12):
    # t_test holds the time of each window's first target
    hours = pd.date_range(t_test[start], periods=HORIZON, freq="h")
    ax_fc.plot(hours, forecast[start], color="tab:red", lw=2,
               label="6-hour forecasts" if start == 0 else None)
ax_fc.set(title="Forecasts every 12 hours (test period)")
ax_fc.legend()
fig.autofmt_xdate()
plt.tight_layout()
plt.show()

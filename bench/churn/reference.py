#!/usr/bin/python3
"""Reference models for bench/churn, on the same split as stratum:
scikit-learn LogisticRegression on standardised one-hot features,
scikit-learn HistGradientBoostingClassifier with defaults, and XGBoost
(300 trees, depth 4, eta 0.05), as in ../shared/data/README.md.
TotalCharges blanks are filled with the training median; text columns are
one-hot encoded.  Prints one JSON object per model."""
import csv
import json
import sys
import time

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss, precision_score, recall_score, roc_auc_score
from sklearn.preprocessing import StandardScaler
import xgboost as xgb

NUMERIC = ['seniorcitizen', 'tenure', 'monthlycharges', 'totalcharges']


def read(path):
    with open(path, newline='') as f:
        rows = list(csv.DictReader(f))
    return rows


train, test = read(sys.argv[1]), read(sys.argv[2])
cols = [c for c in train[0].keys() if c != 'churn']
cats = [c for c in cols if c not in NUMERIC]
levels = {c: sorted({r[c] for r in train}) for c in cats}
median = float(np.median([float(r['totalcharges']) for r in train if r['totalcharges'].strip()]))


def encode(rows):
    X = []
    for r in rows:
        x = []
        for c in NUMERIC:
            v = r[c].strip()
            x.append(float(v) if v else median)
        for c in cats:
            x.extend(1.0 if r[c] == l else 0.0 for l in levels[c])
        X.append(x)
    return np.array(X), np.array([1 if r['churn'] == 'Yes' else 0 for r in rows])


Xtr, ytr = encode(train)
Xte, yte = encode(test)


def report(name, fit, predict):
    t0 = time.perf_counter()
    model = fit()
    train_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    p = predict(model)
    score_s = time.perf_counter() - t0
    yhat = (p >= 0.5).astype(int)
    print(json.dumps({'name': name, 'auc': roc_auc_score(yte, p), 'log_loss': log_loss(yte, p),
                      'accuracy': accuracy_score(yte, yhat), 'precision': precision_score(yte, yhat),
                      'recall': recall_score(yte, yhat), 'train_ms': train_s * 1000,
                      'score_ms': score_s * 1000}))


scaler = StandardScaler().fit(Xtr)
report('scikit-learn LogisticRegression (standardized)',
       lambda: LogisticRegression(max_iter=1000).fit(scaler.transform(Xtr), ytr),
       lambda m: m.predict_proba(scaler.transform(Xte))[:, 1])
report('scikit-learn HistGradientBoosting (defaults)',
       lambda: HistGradientBoostingClassifier(random_state=0).fit(Xtr, ytr),
       lambda m: m.predict_proba(Xte)[:, 1])
report('XGBoost 300 trees, depth 4, eta 0.05',
       lambda: xgb.XGBClassifier(n_estimators=300, max_depth=4, learning_rate=0.05,
                                 n_jobs=1, random_state=0).fit(Xtr, ytr),
       lambda m: m.predict_proba(Xte)[:, 1])

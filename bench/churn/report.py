#!/usr/bin/python3
"""Print bench/churn's results as a table, with ratios against the best
reference model (by test AUC) of the same run."""
import json
import sys

def rows(path):
    out = []
    for line in open(path):
        line = line.strip()
        if line.startswith('{') and '"auc"' in line:
            out.append(json.loads(line))
    return out


stratum = rows(sys.argv[1])
ref = rows(sys.argv[2])
best = max(ref, key=lambda r: r['auc'])
print()
print('| model | test AUC | log loss | accuracy | precision | recall | train ms | AUC / best ref | train time / best ref |')
print('|---|---|---|---|---|---|---|---|---|')
for r in stratum + ref:
    print('| %s | %.4f | %.4f | %.4f | %.4f | %.4f | %.0f | %.4f | %.2f |' % (
        r['name'] + (' [%s]' % r['algorithm'] if 'algorithm' in r else ''), r['auc'], r['log_loss'],
        r['accuracy'], r['precision'], r['recall'], r['train_ms'], r['auc'] / best['auc'],
        r['train_ms'] / best['train_ms']))
print()
print('best reference: %s (test AUC %.4f)' % (best['name'], best['auc']))
for r in stratum:
    print('%s: validation AUC %.4f; fit %.0f ms of %.0f ms in the call; scoring the %s test rows with top-3 factors %.1f ms'
          % (r['name'], r['validation_auc'], r['fit_ms'], r['train_ms'], '1760', r['score_ms']))
ok = round(max(r['auc'] for r in stratum), 6) >= round(best['auc'], 6)  # stratum prints 10 digits
print('bar (best stratum test AUC >= best reference test AUC, to 6 decimals): %s' % ('met' if ok else 'NOT met'))

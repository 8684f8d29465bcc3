#!/usr/bin/python3
"""Split telco-churn.csv exactly as ../shared/data/README.md says: data rows
numbered from 1 (header excluded); rows whose number is divisible by 4 are
the test set, the rest the training set.  Writes train.csv and test.csv
(with the header, column names lower-cased) into the given directory."""
import csv
import sys

src, out = sys.argv[1], sys.argv[2]
with open(src, newline='') as f:
    rows = list(csv.reader(f))
header = [h.lower() for h in rows[0]]
train = [r for i, r in enumerate(rows[1:], start=1) if i % 4 != 0]
test = [r for i, r in enumerate(rows[1:], start=1) if i % 4 == 0]
for name, part in (('train', train), ('test', test)):
    with open(f'{out}/{name}.csv', 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(part)
print(f'{len(train)} training rows, {len(test)} test rows', file=sys.stderr)

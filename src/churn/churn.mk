# Predictive churn: the trainer needs the maths library.
SHLIB_LINK += -lm

/* Placeholder: replaced by the task churn workload. */
int main(void) { return 0; }

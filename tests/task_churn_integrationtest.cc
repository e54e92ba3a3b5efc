// Placeholder: tests land here.
#include "agent_test.h"

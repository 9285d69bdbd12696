/* check_model.c — placeholder while the suite is being written. */
#include <stdlib.h>
int main(void) { return EXIT_SUCCESS; }

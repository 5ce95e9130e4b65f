/* hello: the simplest possible guest. */
#include <stdio.h>

int main(void)
{
    printf("Hello from pyunik guest!\n");
    return 0;
}

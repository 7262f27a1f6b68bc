#include "guest.h"
int main(u64 dtb) { return 0; }
void secondary_main(unsigned i) {}

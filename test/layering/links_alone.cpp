// Linked with one layer library's every object (see CMakeLists.txt): the program does nothing;
// that it links at all is the test.
int main() { return 0; }

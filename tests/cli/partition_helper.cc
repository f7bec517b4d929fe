// partition_helper N: for each line of stdin (a key), prints the partition
// Kafka's default partitioner gives it among N partitions. The rill tool's
// tests compare where `rill produce` put keyed records with this.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "rill/partitioner.h"

int main(int argc, char** argv) {
  if (argc != 2 || std::atoi(argv[1]) <= 0) {
    std::fprintf(stderr, "usage: partition_helper PARTITIONS < keys\n");
    return 2;
  }
  const int partitions = std::atoi(argv[1]);
  std::string key;
  while (std::getline(std::cin, key)) {
    std::printf("%s %d\n", key.c_str(), rill::KafkaPartition(key, partitions));
  }
  return 0;
}

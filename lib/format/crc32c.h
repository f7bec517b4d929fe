// CRC-32C (Castagnoli), the checksum of Kafka's RecordBatch v2.
//
// On x86-64 CPUs with SSE4.2 the crc32 instruction is used, three streams at
// a time; elsewhere a portable slicing-by-8 table. The choice is made once, at
// the first call, from what the CPU reports. Thread-safe.
#ifndef RILL_LIB_FORMAT_CRC32C_H_
#define RILL_LIB_FORMAT_CRC32C_H_

#include <cstddef>
#include <cstdint>

namespace rill::crc32c {

// Extend(crc, data, n): the CRC-32C of A||data where `crc` is the CRC-32C of
// A (0 for the empty string). Extend(0, "123456789", 9) == 0xE3069283.
uint32_t Extend(uint32_t crc, const void* data, size_t n);

// Value(data, n): the CRC-32C of data[0, n).
inline uint32_t Value(const void* data, size_t n) { return Extend(0, data, n); }

// The two implementations, exposed so tests can check they agree.
uint32_t ExtendPortable(uint32_t crc, const void* data, size_t n);
// ExtendHardware: requires HardwareAvailable().
uint32_t ExtendHardware(uint32_t crc, const void* data, size_t n);
// HardwareAvailable(): whether this CPU has a CRC-32C instruction rill uses.
bool HardwareAvailable();

}  // namespace rill::crc32c

#endif  // RILL_LIB_FORMAT_CRC32C_H_

// Forward declarations of rill's public types, for headers that only name
// them.
#ifndef RILL_FWD_H_
#define RILL_FWD_H_

namespace rill {

class Clock;
class Consumer;
class ConsumerRecords;
class Log;
class Producer;
class RecordView;
struct ConsumerOptions;
struct Header;
struct LogOptions;
struct ProducerOptions;
struct Record;
struct RecordPosition;
struct RecoveryReport;
struct TopicConfig;
struct TopicDescription;
struct TopicPartition;

}  // namespace rill

#endif  // RILL_FWD_H_

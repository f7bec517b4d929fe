// rill: Apache Kafka's log model -- topics, partitions, producers and
// consumers over Kafka's RecordBatch v2 format -- as a library.
//
// This umbrella header includes the whole public API. See README.md for a
// tour and docs/DESIGN.md for how it works.
#ifndef RILL_RILL_H_
#define RILL_RILL_H_

#include "rill/clock.h"
#include "rill/compression.h"
#include "rill/consumer.h"
#include "rill/group.h"
#include "rill/log.h"
#include "rill/log_sink.h"
#include "rill/options.h"
#include "rill/partitioner.h"
#include "rill/producer.h"
#include "rill/record.h"
#include "rill/recovery.h"
#include "rill/types.h"

#endif  // RILL_RILL_H_

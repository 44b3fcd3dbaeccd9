#include "bus/jetstream.h"

#include <nats/nats.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

namespace vantage::bus {

namespace {

constexpr const char* kSourceHeader = "Vantage-Source";
constexpr const char* kTypeHeader = "Vantage-Type";
constexpr const char* kFormatHeader = "Vantage-Format";
constexpr int64_t kNanosPerSecond = 1000000000;

Error nats_error(const std::string& what, natsStatus s,
                 jsErrCode jerr = static_cast<jsErrCode>(0)) {
  std::string msg = what + ": " + natsStatus_GetText(s);
  if (jerr != 0) msg += " (JetStream error " + std::to_string(static_cast<int>(jerr)) + ")";
  const char* last = nats_GetLastError(nullptr);
  if (last && *last && msg.find(last) == std::string::npos) msg += ": " + std::string(last);
  // 10008: JetStream cluster not available yet (no meta leader right after a start).
  if (s == NATS_MAX_PAYLOAD) return Error::invalid(msg);  // retrying cannot help
  ErrorCode code = (s == NATS_NO_SERVER || s == NATS_CONNECTION_CLOSED || s == NATS_TIMEOUT ||
                    s == NATS_NO_RESPONDERS || s == NATS_CONNECTION_DISCONNECTED ||
                    static_cast<int>(jerr) == 10008)
                       ? ErrorCode::kUnavailable
                       : ErrorCode::kIo;
  return Error{code, msg};
}

// Publish outcomes, written by the library's acknowledgement thread.
struct PublishCounters {
  std::atomic<int64_t> failed{0};
  std::atomic<int64_t> duplicates{0};
};
PublishCounters g_counters;  // one per process: a Publisher waits for all its publishes

void on_publish_ack(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void*) {
  if (pae) {
    g_counters.failed.fetch_add(1);
  } else if (pa && pa->Duplicate) {
    g_counters.duplicates.fetch_add(1);
  }
  natsMsg_Destroy(msg);
}

std::string header(natsMsg* msg, const char* key) {
  const char* v = nullptr;
  if (natsMsgHeader_Get(msg, key, &v) == NATS_OK && v) return v;
  return {};
}

}  // namespace

std::string subject_for(const BusOptions& options, const std::string& type) {
  return options.subject_prefix + "." + (type.empty() ? "any" : type);
}

Connection::~Connection() {
  if (js_) jsCtx_Destroy(js_);
  if (nc_) natsConnection_Destroy(nc_);
}

std::string Connection::connected_url() const {
  char buf[256] = {0};
  if (nc_ && natsConnection_GetConnectedUrl(nc_, buf, sizeof buf) == NATS_OK) return buf;
  return {};
}

int64_t Connection::max_payload() const {
  return nc_ ? natsConnection_GetMaxPayload(nc_) : 0;
}

Result<std::unique_ptr<Connection>> Connection::open(const BusOptions& options) {
  if (options.urls.empty()) return Error::invalid("cluster.nats_urls is not set");
  std::unique_ptr<Connection> c(new Connection(options));
  natsOptions* o = nullptr;
  if (natsOptions_Create(&o) != NATS_OK) return Error::internal("natsOptions_Create failed");
  // natsOptions_SetURL takes one URL: the list is split for SetServers.
  std::vector<std::string> urls;
  for (size_t start = 0; start <= options.urls.size();) {
    size_t comma = options.urls.find(',', start);
    if (comma == std::string::npos) comma = options.urls.size();
    if (comma > start) urls.push_back(options.urls.substr(start, comma - start));
    start = comma + 1;
  }
  std::vector<const char*> servers;
  for (const auto& u : urls) servers.push_back(u.c_str());
  natsStatus s = natsOptions_SetServers(o, servers.data(), static_cast<int>(servers.size()));
  // After a successful connect the library reconnects by itself (a node restart, a leader
  // change); unbounded, because a worker without its bus has nothing else to do.
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(o, -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(o, 500);
  if (s == NATS_OK) s = natsOptions_SetMaxPendingMsgs(o, 1 << 20);
  if (s != NATS_OK) {
    natsOptions_Destroy(o);
    return nats_error("nats options (" + options.urls + ")", s);
  }
  for (int attempt = 1;; ++attempt) {
    s = natsConnection_Connect(&c->nc_, o);
    if (s == NATS_OK) break;
    if (attempt >= options.connect_attempts) {
      natsOptions_Destroy(o);
      return nats_error("cannot connect to NATS at " + options.urls + " after " +
                            std::to_string(attempt) + " attempts",
                        s);
    }
    std::fprintf(stderr, "vantage: NATS at %s unreachable (%s); retrying in 1 s (%d/%d)\n",
                 options.urls.c_str(), natsStatus_GetText(s), attempt, options.connect_attempts);
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  natsOptions_Destroy(o);

  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = options.request_timeout_ms;
  jo.PublishAsync.MaxPending = 4096;
  jo.PublishAsync.AckHandler = on_publish_ack;
  if ((s = natsConnection_JetStream(&c->js_, c->nc_, &jo)) != NATS_OK) {
    return nats_error("JetStream context", s);
  }
  // The stream API needs a meta leader; right after a cluster starts it may not have one yet.
  Status st;
  for (int attempt = 1; attempt <= options.connect_attempts; ++attempt) {
    st = c->ensure_stream();
    if (st.ok() || st.error().code != ErrorCode::kUnavailable) break;
    std::fprintf(stderr, "vantage: JetStream stream %s not ready (%s); retrying in 1 s\n",
                 options.stream.c_str(), st.message().c_str());
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  if (!st.ok()) return st.error();
  return c;
}

Status Connection::ensure_stream() {
  jsErrCode jerr = static_cast<jsErrCode>(0);
  jsStreamInfo* si = nullptr;
  natsStatus s = js_GetStreamInfo(&si, js_, options_.stream.c_str(), nullptr, &jerr);
  if (s == NATS_OK) {
    jsStreamInfo_Destroy(si);
    return {};
  }
  if (s != NATS_NOT_FOUND) return nats_error("stream info " + options_.stream, s, jerr);
  std::string subjects = options_.subject_prefix + ".>";
  const char* subject_list[] = {subjects.c_str()};
  jsStreamConfig sc;
  jsStreamConfig_Init(&sc);
  sc.Name = options_.stream.c_str();
  sc.Subjects = subject_list;
  sc.SubjectsLen = 1;
  sc.Storage = js_FileStorage;
  sc.Retention = js_LimitsPolicy;
  sc.Replicas = options_.replicas;
  sc.Duplicates = options_.duplicate_window_s * kNanosPerSecond;
  jerr = static_cast<jsErrCode>(0);
  s = js_AddStream(&si, js_, &sc, nullptr, &jerr);
  if (s != NATS_OK) return nats_error("create stream " + options_.stream, s, jerr);
  jsStreamInfo_Destroy(si);
  return {};
}

// Waits until JetStream answered every message published so far.
Status Publisher::wait_for_acks() {
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = connection_.options().request_timeout_ms;
  natsStatus s = js_PublishAsyncComplete(connection_.js(), &po);
  if (s == NATS_OK) return {};
  // Still pending: they may or may not be stored. Dropped here; the caller publishes the
  // whole batch again (same ids: the stream keeps what it already has once).
  natsMsgList pending{};
  if (js_PublishAsyncGetPendingList(&pending, connection_.js()) == NATS_OK) {
    natsMsgList_Destroy(&pending);
  }
  return nats_error("publish acknowledgements", s);
}

Status Publisher::publish(const std::vector<BusMessage>& messages) {
  const int64_t failed_before = g_counters.failed.load();
  const int64_t dup_before = g_counters.duplicates.load();
  auto failures = [&] { return g_counters.failed.load() - failed_before; };
  Status st;
  for (const auto& m : messages) {
    natsMsg* msg = nullptr;
    std::string subject = subject_for(connection_.options(), m.type);
    natsStatus s = natsMsg_Create(&msg, subject.c_str(), nullptr, m.body.data(),
                                  static_cast<int>(m.body.size()));
    if (s == NATS_OK) s = natsMsgHeader_Set(msg, kSourceHeader, m.source.c_str());
    if (s == NATS_OK && !m.type.empty()) s = natsMsgHeader_Set(msg, kTypeHeader, m.type.c_str());
    if (s == NATS_OK) s = natsMsgHeader_Set(msg, kFormatHeader, m.format.c_str());
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = m.id.c_str();  // the Nats-Msg-Id header: the stream's duplicate detection
    if (s == NATS_OK) s = js_PublishMsgAsync(connection_.js(), &msg, &po);
    if (msg) natsMsg_Destroy(msg);  // not taken by the library (an error before the send)
    if (s != NATS_OK) {
      st = nats_error("publish " + m.id, s);
      break;
    }
    if (connection_.options().ordered) {
      // The next message leaves only once this one is stored: a message lost with a failed
      // stream leader cannot be overtaken by the next (the retry starts again from it).
      if (!(st = wait_for_acks()).ok() || failures() > 0) break;
    }
  }
  if (Status done = wait_for_acks(); st.ok()) st = done;
  duplicates_ += g_counters.duplicates.load() - dup_before;
  if (!st.ok()) return st;
  if (failures() > 0) {
    return Error{ErrorCode::kUnavailable,
                 std::to_string(failures()) + " of " + std::to_string(messages.size()) +
                     " messages not stored by JetStream (the batch will be published again)"};
  }
  return {};
}

Delivery::Delivery(natsMsg* msg) : msg_(msg) {
  message_.id = header(msg, "Nats-Msg-Id");
  message_.source = header(msg, kSourceHeader);
  message_.type = header(msg, kTypeHeader);
  message_.format = header(msg, kFormatHeader);
  message_.body.assign(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, msg) == NATS_OK && meta) {
    num_delivered_ = meta->NumDelivered;
    stream_sequence_ = meta->Sequence.Stream;
    jsMsgMetaData_Destroy(meta);
  }
  // A message published without an id (not by Vantage) still gets a stable identity.
  if (message_.id.empty()) message_.id = "seq:" + std::to_string(stream_sequence_);
}

Delivery::Delivery(Delivery&& other) noexcept
    : msg_(other.msg_),
      message_(std::move(other.message_)),
      num_delivered_(other.num_delivered_),
      stream_sequence_(other.stream_sequence_) {
  other.msg_ = nullptr;
}

Delivery::~Delivery() {
  if (msg_) natsMsg_Destroy(msg_);
}

Status Delivery::ack() {
  jsErrCode jerr = static_cast<jsErrCode>(0);
  // Synchronous: the next fetch must not see this message again because an ack was lost.
  natsStatus s = natsMsg_AckSync(msg_, nullptr, &jerr);
  if (s != NATS_OK) return nats_error("ack " + message_.id, s, jerr);
  return {};
}

Consumer::~Consumer() {
  // Destroy, never Unsubscribe: Unsubscribe would delete the durable consumer.
  if (sub_) natsSubscription_Destroy(sub_);
}

Result<std::unique_ptr<Consumer>> Consumer::open(Connection& connection) {
  const BusOptions& o = connection.options();
  std::unique_ptr<Consumer> c(new Consumer(connection));
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = o.consumer.c_str();
  cc.AckPolicy = js_AckExplicit;
  cc.DeliverPolicy = js_DeliverAll;
  cc.AckWait = o.ack_wait_s * kNanosPerSecond;
  // Ordered: one message in flight across all workers, so a redelivery comes before anything
  // newer. Otherwise at least the fetch batch (unset, the server allows 1000, and a larger
  // fetch would wait out its timeout every round).
  cc.MaxAckPending = o.ordered ? 1 : std::max<int64_t>(1024, int64_t{o.fetch_batch} * 16);
  jsConsumerInfo* ci = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetConsumerInfo(&ci, connection.js(), o.stream.c_str(), o.consumer.c_str(),
                                    nullptr, &jerr);
  if (s == NATS_NOT_FOUND) {
    jerr = static_cast<jsErrCode>(0);
    s = js_AddConsumer(&ci, connection.js(), o.stream.c_str(), &cc, nullptr, &jerr);
  }
  if (s != NATS_OK) return nats_error("consumer " + o.consumer, s, jerr);
  jsConsumerInfo_Destroy(ci);
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = o.stream.c_str();
  so.Consumer = o.consumer.c_str();  // bind to the existing durable
  std::string subjects = o.subject_prefix + ".>";
  jerr = static_cast<jsErrCode>(0);
  s = js_PullSubscribe(&c->sub_, connection.js(), subjects.c_str(), o.consumer.c_str(), nullptr,
                       &so, &jerr);
  if (s != NATS_OK) return nats_error("pull subscribe " + o.consumer, s, jerr);
  return c;
}

Result<std::vector<Delivery>> Consumer::fetch(int64_t timeout_ms) {
  natsMsgList list{};
  jsErrCode jerr = static_cast<jsErrCode>(0);
  // Ordered, a batch of more than one would wait out the timeout (one message in flight).
  int batch = connection_.options().ordered ? 1 : connection_.options().fetch_batch;
  natsStatus s = natsSubscription_Fetch(&list, sub_, batch, timeout_ms, &jerr);
  std::vector<Delivery> out;
  if (s == NATS_TIMEOUT) return out;
  if (s != NATS_OK) return nats_error("fetch", s, jerr);
  out.reserve(static_cast<size_t>(list.Count));
  for (int i = 0; i < list.Count; ++i) {
    out.emplace_back(list.Msgs[i]);
    list.Msgs[i] = nullptr;  // owned by the Delivery now
  }
  natsMsgList_Destroy(&list);
  return out;
}

Result<BusStats> bus_stats(Connection& connection) {
  const BusOptions& o = connection.options();
  BusStats st;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  jsStreamInfo* si = nullptr;
  natsStatus s = js_GetStreamInfo(&si, connection.js(), o.stream.c_str(), nullptr, &jerr);
  if (s != NATS_OK) return nats_error("stream info " + o.stream, s, jerr);
  st.stream_messages = si->State.Msgs;
  st.stream_bytes = si->State.Bytes;
  st.stream_replicas = si->Config ? si->Config->Replicas : 0;
  if (si->Cluster && si->Cluster->Leader) st.stream_leader = si->Cluster->Leader;
  jsStreamInfo_Destroy(si);
  jsConsumerInfo* ci = nullptr;
  s = js_GetConsumerInfo(&ci, connection.js(), o.stream.c_str(), o.consumer.c_str(), nullptr,
                         &jerr);
  if (s == NATS_NOT_FOUND) {  // no worker ran yet: everything is pending
    st.num_pending = st.stream_messages;
    return st;
  }
  if (s != NATS_OK) return nats_error("consumer info " + o.consumer, s, jerr);
  st.num_pending = ci->NumPending;
  st.num_ack_pending = ci->NumAckPending;
  st.num_redelivered = ci->NumRedelivered;
  st.delivered = ci->Delivered.Consumer;
  st.ack_floor = ci->AckFloor.Stream;
  st.num_waiting = ci->NumWaiting;
  jsConsumerInfo_Destroy(ci);
  return st;
}

}  // namespace vantage::bus

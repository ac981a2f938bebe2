// Session: one client connection of the memory node, served on its own
// thread. It authenticates the client (HELLO), then reads, checks and
// answers requests in order until the client leaves, misbehaves, or the
// server stops.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "memnode/page_store.h"
#include "memnode/pool_service.h"
#include "prescient/status.h"
#include "transport/protocol.h"

namespace prescient {

// Where a connection is: still to say HELLO, a client, or dropped by the
// server before its HELLO (to make room for newer handshakes). Only the
// moves kHandshake -> kClient (the session) and kHandshake -> kDropped (the
// server) exist, so exactly one of the two wins.
enum SessionStage : int { kHandshake = 0, kClient = 1, kDropped = 2 };

// What every session of one server shares.
struct MemnodeShared {
  MemnodeShared(std::string token, uint64_t capacity_bytes, int max_clients)
      : token(std::move(token)), max_clients(max_clients), store(capacity_bytes) {}
  const std::string token;
  const int max_clients;
  std::atomic<int> clients{0};  // sessions past HELLO
  PageStore store;
  PoolService* pool = nullptr;  // the embedding pool, when the node serves one
  std::atomic<uint64_t> connections{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> pages_read{0};
  std::atomic<uint64_t> pages_written{0};
};

// The refusal a client gets when the node already serves `max_clients`.
Status NodeServesItsMostClients(int max_clients);

class Session {
 public:
  // `stage` is the server's record of this connection (SessionStage).
  Session(MemnodeShared* shared, int fd, std::string peer, std::atomic<int>* stage);
  ~Session();
  void Run();

 private:
  // What a handler asks for: a reply (OK, with the payload in out_, or an
  // error), or closing the connection because the client broke the protocol.
  struct Outcome {
    Status status;
    bool close = false;
  };
  using Handler = Outcome (Session::*)(std::span<const std::byte> payload);
  struct OpEntry {
    wire::Op op;
    Handler handler;
  };
  static const OpEntry kOps[];

  Outcome Hello(std::span<const std::byte> payload);
  Outcome Ping(std::span<const std::byte> payload);
  Outcome Stats(std::span<const std::byte> payload);
  Outcome Read(std::span<const std::byte> payload);
  Outcome Write(std::span<const std::byte> payload);
  Outcome Discard(std::span<const std::byte> payload);
  Outcome Dispatch(uint16_t op, std::span<const std::byte> payload);

  Status ReadRequest(wire::FrameHeader* header, bool* eof);
  Status SendReply(const wire::FrameHeader& request, const Outcome& outcome);
  void CloseForProtocolError(uint16_t op, uint64_t request_id, const Status& why);

  MemnodeShared* const shared_;
  const int fd_;
  const std::string peer_;
  std::atomic<int>* const stage_;
  std::shared_ptr<PageStore::Namespace> ns_;  // set by HELLO, which also takes a client slot
  std::vector<std::byte> in_;   // request payload
  std::vector<std::byte> out_;  // reply payload
};

}  // namespace prescient

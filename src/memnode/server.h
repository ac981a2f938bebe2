// The memory node: a TCP server that stores pages for compute nodes.
//
// It listens on loopback unless told otherwise, serves each connection on its
// own thread (up to max_connections), and stops cleanly on SIGTERM or SIGINT.
// Every request is validated before it is acted on; a connection that sends
// something malformed is closed without disturbing the others.
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "memnode/pmem_embedding_store.h"
#include "prescient/status.h"
#include "transport/socket_util.h"

namespace prescient {

// The most clients, or handshakes, a node may be asked to serve at once.
inline constexpr int kMostSessions = 4096;

struct MemnodeOptions {
  std::string listen = "127.0.0.1:7000";
  std::string token;           // when set, clients must present it in HELLO
  std::string port_file;       // when set, receives the bound port and '\n', atomically
  uint64_t capacity_bytes = 0; // 0: DefaultMemnodeCapacity()
  bool allow_remote = false;   // required to listen on a non-loopback address
  int max_connections = 64;     // clients that have said HELLO
  // Connections that have not said HELLO yet, held apart from the clients:
  // when one more arrives the oldest is dropped, so strangers that connect
  // and wait can never lock a client out, only delay its HELLO.
  int max_handshakes = 16;
  // The embedding pool (pool ops 0x0100-0x01FF), when pool_path is set: an
  // existing pool is opened and recovered; with pool_create (non-empty) a
  // missing one is created with those tables and pool_seed.
  std::string pool_path;
  std::vector<TableSpec> pool_create;
  uint64_t pool_seed = 0;
  PmemPoolOptions pool;
};

// 75 % of physical memory.
uint64_t DefaultMemnodeCapacity();

struct MemnodeShared;
class PoolService;
class Session;

class MemnodeServer {
 public:
  // Validates the options and binds the listening socket.
  static std::unique_ptr<MemnodeServer> Create(const MemnodeOptions& options, Status* status);
  ~MemnodeServer();

  uint16_t port() const { return port_; }
  // Serves until Stop() is called or `stop_fd` (e.g. a signalfd; -1 for
  // none) becomes readable, then closes every connection.
  Status Serve(int stop_fd = -1);
  // Makes Serve() return. Safe from any thread.
  void Stop();

 private:
  struct SessionThread {
    UniqueFd fd;  // owned here so it is closed only after the thread is joined
    std::thread thread;
    std::atomic<bool> finished{false};
    std::atomic<int> stage{0};  // SessionStage
  };

  MemnodeServer(const MemnodeOptions& options, Endpoint endpoint);
  void Accept();
  void Reject(UniqueFd fd, const std::string& peer);
  // Makes room for one more handshake by dropping the oldest still pending.
  void DropOldestHandshakeIfFull();
  void ReapFinished();
  void CloseAll();

  MemnodeOptions options_;
  Endpoint endpoint_;
  uint16_t port_ = 0;
  UniqueFd listen_fd_;
  UniqueFd wake_fd_;  // eventfd written by Stop()
  std::unique_ptr<PoolService> pool_;
  std::unique_ptr<MemnodeShared> shared_;
  std::list<SessionThread> sessions_;  // touched only by the Serve() thread, oldest first
  uint64_t handshakes_dropped_ = 0;
};

// The `prescient memnode` command: creates the server, writes the port file,
// and serves until SIGTERM or SIGINT.
Status RunMemnodeServer(const MemnodeOptions& options);

}  // namespace prescient

// `prescient memnode`: serve far memory to compute nodes over TCP.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "commands.h"
#include "common/units.h"
#include "memnode/server.h"
#include "memnode/table_spec.h"
#include "token_flags.h"

namespace prescient::cli {

void AddMemnodeCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("memnode", "Run a memory node: store pages for `prescient run --memnode HOST:PORT`");
  struct Args {
    MemnodeOptions options;
    std::string capacity;
    std::string pool_create, pool_latency, pool_log;
    bool no_undo_log = false, sync_undo_log = false;
    TokenFlags token;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("--listen", args->options.listen, "HOST:PORT to listen on; port 0 lets the kernel choose")->capture_default_str();
  AddTokenFlags(cmd, "the shared secret clients must present (required with --allow-remote)", &args->token);
  cmd->add_option("--port-file", args->options.port_file, "Write the bound port and a newline to FILE once listening");
  cmd->add_option("--capacity", args->capacity, "Most page data to hold, e.g. 8G (default: 75% of physical memory)");
  cmd->add_flag("--allow-remote", args->options.allow_remote, "Allow listening on a non-loopback address");
  cmd->add_option("--max-connections", args->options.max_connections, "Most clients (connections past HELLO) served at once")->capture_default_str();
  cmd->add_option("--max-handshakes", args->options.max_handshakes,
                  "Most connections waiting to say HELLO (3 s at most each); one more drops the oldest")
      ->capture_default_str();
  cmd->add_option("--pool", args->options.pool_path,
                  "Also serve the embedding pool in FILE (near-memory lookup and update, pool ops); it is recovered on start");
  cmd->add_option("--pool-create", args->pool_create,
                  "Create the pool if FILE does not exist, with these tables: NAME=ROWSxDIM,... or COUNT*ROWSxDIM (an existing pool must match)");
  cmd->add_option("--pool-seed", args->options.pool_seed, "Seed of a created pool's initial rows")->capture_default_str();
  cmd->add_option("--pool-log", args->pool_log, "Undo-log size of a created pool, e.g. 64M (default: every row, at most 256M)");
  cmd->add_flag("--pool-no-undo-log", args->no_undo_log, "Run without the undo log (for checkpointing baselines, which recover on their own)");
  cmd->add_flag("--pool-sync-undo-log", args->sync_undo_log, "Write each batch's undo log inside its PREPARE, not beside the lookups that follow (the synchronous baseline)");
  cmd->add_option("--pool-latency", args->pool_latency,
                  "Emulate slower memory: pmem (reads +200 ns, writes +600 ns per 64-byte line, i.e. 3x/7x DRAM), pmem:DRAM_NS, or READ_NS,WRITE_NS")
      ->default_str("off");
  cmd->callback([args, exit_code] {
    // Logs go to stderr: stdout stays free for whatever wraps the node.
    spdlog::set_default_logger(spdlog::stderr_color_mt("memnode"));
    MemnodeOptions options = args->options;
    if (!args->capacity.empty()) {
      Status st = ParseBytes(args->capacity, &options.capacity_bytes);
      if (st.ok() && options.capacity_bytes == 0) st = Status::InvalidArgument("--capacity must be above 0");
      if (!st.ok()) {
        spdlog::error("--capacity: {}", st.message());
        *exit_code = 2;
        return;
      }
    }
    Status pst = TokenFromFlags(args->token, &options.token);
    if (pst.ok() && !args->pool_create.empty()) pst = ParseTableSpecs(args->pool_create, &options.pool_create);
    if (pst.ok()) pst = ParsePoolLatency(args->pool_latency, &options.pool.latency);
    if (pst.ok() && !args->pool_log.empty()) pst = ParseBytes(args->pool_log, &options.pool.log_bytes);
    options.pool.undo_log = !args->no_undo_log;
    options.pool.log_ahead = !args->sync_undo_log;
    if (pst.ok() && options.pool_path.empty() && (!args->pool_create.empty() || !args->pool_latency.empty() || args->no_undo_log || args->sync_undo_log))
      pst = Status::InvalidArgument("--pool-create, --pool-latency, --pool-no-undo-log and --pool-sync-undo-log need --pool FILE");
    if (!pst.ok()) {
      spdlog::error("{}", pst.message());
      *exit_code = 2;
      return;
    }
    Status st = RunMemnodeServer(options);
    if (!st.ok()) {
      spdlog::error("{}", st.message());
      *exit_code = st.code() == Status::Code::kInvalidArgument ? 2 : 1;
      return;
    }
    *exit_code = 0;
  });
}

}  // namespace prescient::cli

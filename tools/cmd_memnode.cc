// `prescient memnode`: serve far memory to compute nodes over TCP.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "commands.h"
#include "common/units.h"
#include "memnode/server.h"

namespace prescient::cli {

void AddMemnodeCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("memnode", "Run a memory node: store pages for `prescient run --memnode HOST:PORT`");
  struct Args {
    MemnodeOptions options;
    std::string capacity;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("--listen", args->options.listen, "HOST:PORT to listen on; port 0 lets the kernel choose")->capture_default_str();
  cmd->add_option("--token", args->options.token, "Shared secret clients must present (recommended with --allow-remote)");
  cmd->add_option("--port-file", args->options.port_file, "Write the bound port and a newline to FILE once listening");
  cmd->add_option("--capacity", args->capacity, "Most page data to hold, e.g. 8G (default: 75% of physical memory)");
  cmd->add_flag("--allow-remote", args->options.allow_remote, "Allow listening on a non-loopback address");
  cmd->add_option("--max-connections", args->options.max_connections, "Most client connections served at once")->capture_default_str();
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
    Status st = RunMemnodeServer(options);
    if (!st.ok()) {
      spdlog::error("{}", st.message());
      *exit_code = 1;
      return;
    }
    *exit_code = 0;
  });
}

}  // namespace prescient::cli

// The run's start-up (a constructor, nothing to call) and its report.
#pragma once

namespace prescient::preload {

// Writes the report (JSON file and stderr summary) if this is the process
// `prescient run` started and it has not been written yet. Called by atexit
// and by the exit paths that skip atexit.
void ReportIfRoot();

}  // namespace prescient::preload

// The run's start-up (a constructor, nothing to call) and its report.
#pragma once

namespace prescient {
class Region;
}

namespace prescient::preload {

// The run's region, once start-up has built it; null before, and in a
// forked child (whose copy of the region is fenced off).
Region* ManagedRegion();

// Writes the report (JSON file and stderr summary) if this is the process
// `prescient run` started and it has not been written yet. Called by atexit
// and by the exit paths that skip atexit.
void ReportIfRoot();

}  // namespace prescient::preload

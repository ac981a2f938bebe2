// GradientJournal: the dense gradient of each of the last few batches, in a
// ring of slots in one file, each made durable before its batch commits.
//
// The relaxed dense checkpoint restores slices up to --max-gap batches older
// than the embeddings. With the journal, a resume replays the batches each
// slice missed with the gradients those batches really had, so the dense
// state it reaches is the uninterrupted run's bit for bit (the optimizers
// are elementwise, so a slice's state depends only on its own gradients).
//
// The write of batch N's gradient starts right after its backward pass and
// overlaps the embedding updates; the commit of N waits for it.
//
// File: a 64-byte header (magic "PRSGJRN1", version, slots, floats,
// fingerprint, checksum), then `slots` records of a 32-byte head (batch,
// floats, checksum of the data, checksum of the head) and the floats.
// Batch N lives in slot N mod slots. A torn or stale slot reads as absent.
#pragma once

#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "prescient/status.h"

namespace prescient {

class GradientJournal {
 public:
  ~GradientJournal();

  // Creates `path` (replacing it) with `slots` empty slots.
  static Status Create(const std::string& path, uint64_t fingerprint, uint64_t floats, uint32_t slots,
                       std::unique_ptr<GradientJournal>* out);
  // Opens an existing journal; refuses (naming the file and what is wrong) a
  // foreign, truncated or damaged file, or one of another model.
  static Status Open(const std::string& path, uint64_t fingerprint, uint64_t floats, std::unique_ptr<GradientJournal>* out);

  uint32_t slots() const { return slots_; }
  // Starts writing batch's gradient (and syncing it) on a helper thread.
  // The previous write must have been waited for.
  void Submit(uint64_t batch, std::vector<float> gradient);
  // Waits for the write Submit started; its error, if it failed.
  Status WaitDurable();
  // Batch's gradient into *out, or false if its slot holds another batch or
  // fails its checksums.
  bool Read(uint64_t batch, std::vector<float>* out) const;
  uint64_t bytes_written() const { return bytes_written_; }

 private:
  GradientJournal(std::string path, int fd, uint32_t slots, uint64_t floats);
  Status Write(uint64_t batch, const std::vector<float>& gradient);
  uint64_t record_bytes() const;

  const std::string path_;
  const int fd_;
  const uint32_t slots_;
  const uint64_t floats_;
  std::future<Status> pending_;
  Status deferred_;  // the error of a write Submit had to finish itself
  uint64_t bytes_written_ = 0;
};

}  // namespace prescient

// The wire protocol: what is encoded decodes to the same thing, and the
// decoder refuses every malformed frame with a message that says why.
#include <cstring>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "transport/protocol.h"

namespace prescient::wire {
namespace {

using Bytes = std::vector<std::byte>;

// Frames decoded here point into `bytes`, so callers keep it alive.
Frame Decode(const Bytes& bytes) {
  Frame frame;
  size_t consumed = 0;
  Status st = DecodeFrame(bytes, &frame, &consumed);
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(consumed, bytes.size());
  return frame;
}

Status DecodeError(const Bytes& bytes) {
  Frame frame;
  size_t consumed = 0;
  return DecodeFrame(bytes, &frame, &consumed);
}

void ExpectMentions(const Status& st, const std::string& text) {
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find(text), std::string::npos) << "message: " << st.message();
}

TEST(Protocol, HeaderRoundTrip) {
  std::byte raw[kHeaderSize];
  EncodeHeader({static_cast<uint16_t>(Op::kWrite), 7, 1234, 0x1122334455667788ull}, raw);
  EXPECT_EQ(std::memcmp(raw, "PMN\x01", 4), 0);
  FrameHeader h;
  ASSERT_TRUE(ParseHeader(raw, &h).ok());
  EXPECT_EQ(h.op, static_cast<uint16_t>(Op::kWrite));
  EXPECT_EQ(h.status, 7);
  EXPECT_EQ(h.payload_len, 1234u);
  EXPECT_EQ(h.request_id, 0x1122334455667788ull);
  // Little-endian on the wire, whatever the host.
  EXPECT_EQ(raw[16], std::byte{0x88});
  EXPECT_EQ(raw[8], std::byte{0xd2});
}

TEST(Protocol, ReadRoundTrip) {
  std::vector<uint64_t> pages = {0, 1, 99, (uint64_t{1} << 40) - 1};
  Bytes read_frame = EncodeRead(42, pages);
  Frame f = Decode(read_frame);
  EXPECT_EQ(f.header.op, static_cast<uint16_t>(Op::kRead));
  EXPECT_EQ(f.header.request_id, 42u);
  ASSERT_TRUE(ParseRequestHeader(EncodeRead(42, pages), &f.header).ok());
  ReadRequest r;
  ASSERT_TRUE(ParseRead(f.payload, &r).ok());
  ASSERT_EQ(r.count(), pages.size());
  for (uint32_t i = 0; i < r.count(); ++i) EXPECT_EQ(r.page(i), pages[i]);
}

TEST(Protocol, WriteRoundTrip) {
  std::vector<uint64_t> pages = {5, 3};
  Bytes data(2 * kPageSize);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::byte>(i * 7);
  Bytes write_frame = EncodeWrite(9, pages, data);
  Frame f = Decode(write_frame);
  WriteRequest w;
  ASSERT_TRUE(ParseWrite(f.payload, &w).ok());
  ASSERT_EQ(w.count(), 2u);
  EXPECT_EQ(w.page(0), 5u);
  EXPECT_EQ(w.page(1), 3u);
  EXPECT_EQ(std::memcmp(w.page_data(1), data.data() + kPageSize, kPageSize), 0);
}

TEST(Protocol, HelloDiscardStatsAndErrorRoundTrip) {
  Bytes hello_frame = EncodeHello(1, {kVersion, 0xabcdef, "s3cret"});
  Frame f = Decode(hello_frame);
  HelloRequest hello;
  ASSERT_TRUE(ParseHello(f.payload, &hello).ok());
  EXPECT_EQ(hello.version, kVersion);
  EXPECT_EQ(hello.namespace_id, 0xabcdefu);
  EXPECT_EQ(hello.token, "s3cret");

  HelloResponse sent;
  sent.capacity_bytes = 8ull << 30;
  Bytes hello_response_frame = EncodeHelloResponse(1, sent);
  f = Decode(hello_response_frame);
  HelloResponse got;
  ASSERT_TRUE(ParseHelloResponse(f.payload, &got).ok());
  EXPECT_EQ(got.capacity_bytes, sent.capacity_bytes);
  EXPECT_EQ(got.max_pages_per_request, kMaxPagesPerRequest);

  Bytes discard_frame = EncodeDiscard(2, {100, 50});
  f = Decode(discard_frame);
  DiscardRequest d;
  ASSERT_TRUE(ParseDiscard(f.payload, &d).ok());
  EXPECT_EQ(d.first_page, 100u);
  EXPECT_EQ(d.page_count, 50u);

  std::vector<uint64_t> fields = {1, 2, 3};
  Bytes stats_frame = EncodeStatsResponse(3, fields);
  f = Decode(stats_frame);
  std::vector<uint64_t> back;
  ASSERT_TRUE(ParseStatsResponse(f.payload, &back).ok());
  EXPECT_EQ(back, fields);

  Bytes error_frame = EncodeError(static_cast<uint16_t>(Op::kWrite), 4, Status::ResourceExhausted("memory node full (capacity 1.0 MiB)"));
  f = Decode(error_frame);
  EXPECT_NE(f.header.status, 0);
  Status st = FromWireStatus(f.header.status, std::string(reinterpret_cast<const char*>(f.payload.data()), f.payload.size()));
  EXPECT_EQ(st.code(), Status::Code::kResourceExhausted);
  EXPECT_EQ(st.message(), "memory node full (capacity 1.0 MiB)");
}

TEST(Protocol, EveryStatusCodeSurvivesTheWire) {
  for (auto code : {Status::Code::kInvalidArgument, Status::Code::kNotFound, Status::Code::kIoError, Status::Code::kCorruption,
                    Status::Code::kUnavailable, Status::Code::kResourceExhausted, Status::Code::kPermissionDenied,
                    Status::Code::kTimedOut, Status::Code::kInternal}) {
    EXPECT_EQ(FromWireStatus(ToWireStatus(code), "x").code(), code);
  }
}

TEST(Protocol, RejectsBadMagicAndVersion) {
  Bytes frame = EncodeEmpty(Op::kPing, 1);
  frame[0] = std::byte{'X'};
  ExpectMentions(DecodeError(frame), "bad magic");
  frame = EncodeEmpty(Op::kPing, 1);
  frame[3] = std::byte{9};
  ExpectMentions(DecodeError(frame), "version 9");
  frame = EncodeEmpty(Op::kPing, 1);
  frame[12] = std::byte{1};
  ExpectMentions(DecodeError(frame), "reserved");
}

TEST(Protocol, RejectsTruncatedFrames) {
  Bytes frame = EncodeRead(1, std::vector<uint64_t>{1, 2, 3});
  ExpectMentions(DecodeError(Bytes(frame.begin(), frame.begin() + 10)), "truncated frame header: 10 of 24");
  ExpectMentions(DecodeError(Bytes(frame.begin(), frame.end() - 1)), "truncated READ frame");
  ExpectMentions(DecodeError({}), "truncated");
}

TEST(Protocol, RejectsOversizedCounts) {
  std::vector<uint64_t> pages(kMaxPagesPerRequest + 1, 1);
  Bytes read_frame = EncodeRead(1, pages);
  Frame f = Decode(read_frame);
  ReadRequest r;
  ExpectMentions(ParseRead(f.payload, &r), "exceeds the limit of 1024");
  // The header check refuses it before the payload is even read.
  FrameHeader h;
  ExpectMentions(ParseRequestHeader(EncodeRead(1, pages), &h), "above its limit");
  // A declared payload above the global limit is refused from the header alone.
  Bytes frame = EncodeEmpty(Op::kWrite, 1);
  StoreU32(frame.data() + 8, 0xffffffffu);
  ExpectMentions(DecodeError(frame), "above the limit");
  // A count of zero is malformed too.
  Bytes zero(8);
  ExpectMentions(ParseRead(zero, &r), "count of 0");
}

TEST(Protocol, RejectsPayloadLengthMismatch) {
  std::vector<uint64_t> pages = {1, 2};
  Bytes read_frame = EncodeRead(1, pages);
  Frame f = Decode(read_frame);
  Bytes longer(f.payload.begin(), f.payload.end());
  longer.resize(longer.size() + 8);
  ReadRequest r;
  ExpectMentions(ParseRead(longer, &r), "need exactly");
  Bytes shorter(f.payload.begin(), f.payload.end() - 1);
  ExpectMentions(ParseRead(shorter, &r), "need exactly");

  Bytes data(2 * kPageSize);
  Bytes write_frame = EncodeWrite(1, pages, data);
  f = Decode(write_frame);
  Bytes missing_page(f.payload.begin(), f.payload.end() - kPageSize);
  WriteRequest w;
  ExpectMentions(ParseWrite(missing_page, &w), "need exactly");

  Bytes hello_payload = [] {
    Bytes frame = EncodeHello(1, {kVersion, 1, "abc"});
    return Bytes(frame.begin() + kHeaderSize, frame.end() - 1);
  }();
  HelloRequest hello;
  ExpectMentions(ParseHello(hello_payload, &hello), "token");
  DiscardRequest d;
  ExpectMentions(ParseDiscard(Bytes(15), &d), "expected 16");
}

TEST(Protocol, RejectsPageNumbersBeyondTheLimit) {
  std::vector<uint64_t> pages = {1, uint64_t{1} << 40};
  Bytes read_frame = EncodeRead(1, pages);
  Frame f = Decode(read_frame);
  ReadRequest r;
  ExpectMentions(ParseRead(f.payload, &r), "beyond the limit");
  Bytes discard_frame = EncodeDiscard(1, {(uint64_t{1} << 40) - 5, 10});
  f = Decode(discard_frame);
  DiscardRequest d;
  ExpectMentions(ParseDiscard(f.payload, &d), "beyond the limit");
}

TEST(Protocol, RequestRulesForHeaders) {
  FrameHeader h;
  Bytes ping_with_payload = EncodeEmpty(Op::kPing, 1);
  StoreU32(ping_with_payload.data() + 8, 8);
  ExpectMentions(ParseRequestHeader(ping_with_payload, &h), "above its limit of 0");
  Bytes with_status = EncodeError(static_cast<uint16_t>(Op::kRead), 1, Status::Internal("x"));
  ExpectMentions(ParseRequestHeader(with_status, &h), "carries a status");
  EXPECT_TRUE(IsPoolOp(0x0100));
  EXPECT_TRUE(IsPoolOp(0x01ff));
  EXPECT_FALSE(IsPoolOp(static_cast<uint16_t>(Op::kRead)));
  EXPECT_EQ(OpName(static_cast<uint16_t>(Op::kDiscard)), "DISCARD");
}

// Random input must be refused or accepted, never crash (run under ASan).
TEST(Protocol, SurvivesRandomBytes) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    Bytes bytes(rng() % 80);
    for (auto& b : bytes) b = static_cast<std::byte>(rng());
    if (bytes.size() >= 4 && (i & 1)) std::memcpy(bytes.data(), "PMN\x01", 4);
    if (bytes.size() >= 12 && (i & 2)) StoreU32(bytes.data() + 8, static_cast<uint32_t>(bytes.size() > 24 ? bytes.size() - 24 : 0));
    if (bytes.size() >= 16 && (i & 1)) StoreU32(bytes.data() + 12, 0);
    Frame f;
    size_t consumed;
    if (!DecodeFrame(bytes, &f, &consumed).ok()) continue;
    ReadRequest r;
    WriteRequest w;
    HelloRequest h;
    DiscardRequest d;
    std::vector<uint64_t> fields;
    (void)ParseRead(f.payload, &r);
    (void)ParseWrite(f.payload, &w);
    (void)ParseHello(f.payload, &h);
    (void)ParseDiscard(f.payload, &d);
    (void)ParseStatsResponse(f.payload, &fields);
  }
}

}  // namespace
}  // namespace prescient::wire

// RESP2 (gateway/io/resp.hpp): commands as arrays of bulk strings byte for byte, the replies
// the parser reads (complete, incomplete at every split point, malformed), and the Redis
// Cluster key slot (the cluster spec's vectors, checked against redis-server's CLUSTER KEYSLOT).
#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "io/resp.hpp"

using namespace gateway;
using namespace std::string_view_literals;
using Status = RespParser::Status;
using Type = RespReply::Type;

namespace {

std::string command(std::initializer_list<std::string_view> args) {
    std::string out;
    append_resp_command(out, args);
    return out;
}

std::string nested_arrays(int depth, std::string_view innermost) {
    std::string text;
    for (int i = 0; i < depth; ++i) text += "*1\r\n";
    text += innermost;
    return text;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Commands

TEST_CASE("resp: a command is an array of bulk strings, byte for byte") {
    CHECK(command({"PING"}) == "*1\r\n$4\r\nPING\r\n");
    CHECK(command({"GET", "foo"}) == "*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n");
    CHECK(command({"EVALSHA", "0123abcd", "1", "gateway:rl:{r}:h:k", "50", "100"}) ==
          "*6\r\n$7\r\nEVALSHA\r\n$8\r\n0123abcd\r\n$1\r\n1\r\n$18\r\ngateway:rl:{r}:h:k\r\n"
          "$2\r\n50\r\n$3\r\n100\r\n");
}

TEST_CASE("resp: an empty argument is a zero-length bulk string, and no arguments is *0") {
    CHECK(command({"SET", "k", ""}) == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
    CHECK(command({""}) == "*1\r\n$0\r\n\r\n");
    CHECK(command({}) == "*0\r\n");
}

TEST_CASE("resp: binary arguments (CRLF, NUL, high bytes inside) go length-prefixed and unchanged") {
    const auto binary = "a\r\nb\0c\xff"sv;  // 7 bytes
    REQUIRE(binary.size() == 7);
    const std::string out = command({"SET", binary, "\r\n"sv});
    CHECK(out == "*3\r\n$3\r\nSET\r\n$7\r\na\r\nb\0c\xff\r\n$2\r\n\r\n\r\n"sv);
    // And it reads back as the same three strings.
    const auto parsed = RespParser::parse(out);
    REQUIRE(parsed.status == Status::complete);
    CHECK(parsed.consumed == out.size());
    REQUIRE(parsed.reply.type == Type::array);
    REQUIRE(parsed.reply.elements.size() == 3);
    CHECK(parsed.reply.elements[0].text == "SET");
    CHECK(parsed.reply.elements[1].text == binary);
    CHECK(parsed.reply.elements[2].text == "\r\n");
}

TEST_CASE("resp: the vector overload writes what the initializer-list one does, appending to out") {
    const std::vector<std::string_view> args{"HSET", "h", "", "x\r\ny"};
    std::string out = "+prior\r\n";
    append_resp_command(out, args);
    CHECK(out == "+prior\r\n*4\r\n$4\r\nHSET\r\n$1\r\nh\r\n$0\r\n\r\n$4\r\nx\r\ny\r\n");
    std::string same = "+prior\r\n";
    append_resp_command(same, {"HSET", "h", "", "x\r\ny"});
    CHECK(same == out);
    std::string empty;
    append_resp_command(empty, std::vector<std::string_view>{});
    CHECK(empty == "*0\r\n");
}

// ---------------------------------------------------------------------------------------------
// Complete replies

TEST_CASE("resp: a simple string") {
    const auto parsed = RespParser::parse("+OK\r\n");
    REQUIRE(parsed.status == Status::complete);
    CHECK(parsed.consumed == 5);
    CHECK(parsed.reply.type == Type::simple);
    CHECK(parsed.reply.text == "OK");
    CHECK_FALSE(parsed.reply.is_error());

    const auto empty = RespParser::parse("+\r\n");
    REQUIRE(empty.status == Status::complete);
    CHECK(empty.reply.type == Type::simple);
    CHECK(empty.reply.text.empty());
}

TEST_CASE("resp: an error, and its code is its first word") {
    const auto noscript = RespParser::parse("-NOSCRIPT No matching script. Please use EVAL.\r\n");
    REQUIRE(noscript.status == Status::complete);
    CHECK(noscript.reply.type == Type::error);
    CHECK(noscript.reply.is_error());
    CHECK(noscript.reply.text == "NOSCRIPT No matching script. Please use EVAL.");
    CHECK(noscript.reply.error_code() == "NOSCRIPT");

    const auto moved = RespParser::parse("-MOVED 3999 127.0.0.1:6381\r\n");
    REQUIRE(moved.status == Status::complete);
    CHECK(moved.reply.is_error());
    CHECK(moved.reply.text == "MOVED 3999 127.0.0.1:6381");
    CHECK(moved.reply.error_code() == "MOVED");
}

TEST_CASE("resp: error_code of texts as they are") {
    RespReply reply;
    reply.type = Type::error;
    reply.text = "NOSCRIPT No matching script";
    CHECK(reply.error_code() == "NOSCRIPT");
    reply.text = "MOVED 3999 127.0.0.1:6381";
    CHECK(reply.error_code() == "MOVED");
    reply.text = "ASK 3999 127.0.0.1:6381";
    CHECK(reply.error_code() == "ASK");
    reply.text = "NOAUTH Authentication required.";
    CHECK(reply.error_code() == "NOAUTH");
    reply.text = "ERR";  // one word: all of it
    CHECK(reply.error_code() == "ERR");
    reply.text = "";
    CHECK(reply.error_code().empty());
}

TEST_CASE("resp: integers, negative and at the int64 limits") {
    struct Row {
        std::string_view wire;
        std::int64_t value;
    };
    const Row rows[] = {
        {":0\r\n", 0},
        {":1000\r\n", 1000},
        {":-1\r\n", -1},
        {":-42\r\n", -42},
        {":9223372036854775807\r\n", INT64_MAX},
        {":-9223372036854775808\r\n", INT64_MIN},
    };
    for (const auto& row : rows) {
        INFO(row.wire);
        const auto parsed = RespParser::parse(row.wire);
        REQUIRE(parsed.status == Status::complete);
        CHECK(parsed.consumed == row.wire.size());
        CHECK(parsed.reply.type == Type::integer);
        CHECK(parsed.reply.integer == row.value);
    }
}

TEST_CASE("resp: bulk strings, empty and binary") {
    const auto bulk = RespParser::parse("$5\r\nhello\r\n");
    REQUIRE(bulk.status == Status::complete);
    CHECK(bulk.consumed == 11);
    CHECK(bulk.reply.type == Type::bulk);
    CHECK(bulk.reply.text == "hello");

    const auto empty = RespParser::parse("$0\r\n\r\n");
    REQUIRE(empty.status == Status::complete);
    CHECK(empty.consumed == 6);
    CHECK(empty.reply.type == Type::bulk);
    CHECK(empty.reply.text.empty());

    const auto wire = "$8\r\n\r\n\0\r\n\xfe\r\n\r\n"sv;  // the payload is CRLF NUL CRLF 0xFE CRLF
    const auto binary = RespParser::parse(wire);
    REQUIRE(binary.status == Status::complete);
    CHECK(binary.consumed == wire.size());
    CHECK(binary.reply.type == Type::bulk);
    CHECK(binary.reply.text == "\r\n\0\r\n\xfe\r\n"sv);
}

TEST_CASE("resp: a null bulk string and a null array are null") {
    const auto bulk = RespParser::parse("$-1\r\n");
    REQUIRE(bulk.status == Status::complete);
    CHECK(bulk.consumed == 5);
    CHECK(bulk.reply.type == Type::null);
    CHECK(bulk.reply.text.empty());

    const auto array = RespParser::parse("*-1\r\n");
    REQUIRE(array.status == Status::complete);
    CHECK(array.consumed == 5);
    CHECK(array.reply.type == Type::null);
    CHECK(array.reply.elements.empty());
}

TEST_CASE("resp: an empty array, and a flat array of mixed types") {
    const auto empty = RespParser::parse("*0\r\n");
    REQUIRE(empty.status == Status::complete);
    CHECK(empty.consumed == 4);
    CHECK(empty.reply.type == Type::array);
    CHECK(empty.reply.elements.empty());

    // What the GCRA script answers: allowed, remaining, retry-after ms, and a null.
    const std::string wire = "*5\r\n:1\r\n:-7\r\n$3\r\nabc\r\n$-1\r\n+QUEUED\r\n";
    const auto parsed = RespParser::parse(wire);
    REQUIRE(parsed.status == Status::complete);
    CHECK(parsed.consumed == wire.size());
    REQUIRE(parsed.reply.type == Type::array);
    const auto& e = parsed.reply.elements;
    REQUIRE(e.size() == 5);
    CHECK(e[0].type == Type::integer);
    CHECK(e[0].integer == 1);
    CHECK(e[1].integer == -7);
    CHECK(e[2].type == Type::bulk);
    CHECK(e[2].text == "abc");
    CHECK(e[3].type == Type::null);
    CHECK(e[4].type == Type::simple);
    CHECK(e[4].text == "QUEUED");
}

TEST_CASE("resp: nested arrays, shaped like a CLUSTER SLOTS reply") {
    // Two ranges: 0-8191 on 127.0.0.1:7000 with a replica on 7003, 8192-16383 on 7001.
    const std::string wire =
        "*2\r\n"
        "*4\r\n:0\r\n:8191\r\n"
        "*3\r\n$9\r\n127.0.0.1\r\n:7000\r\n$4\r\nn1id\r\n"
        "*3\r\n$9\r\n127.0.0.1\r\n:7003\r\n$4\r\nr1id\r\n"
        "*3\r\n:8192\r\n:16383\r\n"
        "*3\r\n$9\r\n127.0.0.1\r\n:7001\r\n$4\r\nn2id\r\n";
    const auto parsed = RespParser::parse(wire);
    REQUIRE(parsed.status == Status::complete);
    CHECK(parsed.consumed == wire.size());
    REQUIRE(parsed.reply.type == Type::array);
    const auto& ranges = parsed.reply.elements;
    REQUIRE(ranges.size() == 2);

    REQUIRE(ranges[0].type == Type::array);
    REQUIRE(ranges[0].elements.size() == 4);
    CHECK(ranges[0].elements[0].integer == 0);
    CHECK(ranges[0].elements[1].integer == 8191);
    const auto& master = ranges[0].elements[2];
    REQUIRE(master.type == Type::array);
    REQUIRE(master.elements.size() == 3);
    CHECK(master.elements[0].type == Type::bulk);
    CHECK(master.elements[0].text == "127.0.0.1");
    CHECK(master.elements[1].integer == 7000);
    CHECK(master.elements[2].text == "n1id");
    const auto& replica = ranges[0].elements[3];
    REQUIRE(replica.elements.size() == 3);
    CHECK(replica.elements[1].integer == 7003);
    CHECK(replica.elements[2].text == "r1id");

    REQUIRE(ranges[1].elements.size() == 3);
    CHECK(ranges[1].elements[0].integer == 8192);
    CHECK(ranges[1].elements[1].integer == 16383);
    REQUIRE(ranges[1].elements[2].elements.size() == 3);
    CHECK(ranges[1].elements[2].elements[0].text == "127.0.0.1");
    CHECK(ranges[1].elements[2].elements[1].integer == 7001);
}

TEST_CASE("resp: consumed is the first reply's length when two replies are concatenated") {
    const std::string wire = "+OK\r\n:5\r\n";
    const auto first = RespParser::parse(wire);
    REQUIRE(first.status == Status::complete);
    CHECK(first.consumed == 5);
    CHECK(first.reply.text == "OK");
    const auto second = RespParser::parse(std::string_view(wire).substr(first.consumed));
    REQUIRE(second.status == Status::complete);
    CHECK(second.consumed == 4);
    CHECK(second.reply.integer == 5);

    // A bulk whose payload looks like a reply is not read as one.
    const std::string tricky = "$5\r\n+OK\r\n\r\n$-1\r\n";
    const auto bulk = RespParser::parse(tricky);
    REQUIRE(bulk.status == Status::complete);
    CHECK(bulk.consumed == 11);
    CHECK(bulk.reply.text == "+OK\r\n");
    const auto null = RespParser::parse(std::string_view(tricky).substr(bulk.consumed));
    REQUIRE(null.status == Status::complete);
    CHECK(null.consumed == 5);
    CHECK(null.reply.type == Type::null);

    // An array followed by more: consumed stops at the array's end.
    const std::string array = "*2\r\n:1\r\n:2\r\n-ERR next\r\n";
    const auto parsed = RespParser::parse(array);
    REQUIRE(parsed.status == Status::complete);
    CHECK(parsed.consumed == 12);
    CHECK(parsed.reply.elements.size() == 2);
}

// ---------------------------------------------------------------------------------------------
// Incomplete

namespace {

/// One of each kind, with CRLFs inside bulk payloads, nesting, nulls and empties.
const std::vector<std::string> kReplies = {
    "+OK\r\n",
    "-MOVED 3999 127.0.0.1:6381\r\n",
    ":-42\r\n",
    ":1000\r\n",
    "$5\r\nhe\r\nl\r\n",
    "$0\r\n\r\n",
    "$-1\r\n",
    "*-1\r\n",
    "*0\r\n",
    "*3\r\n*1\r\n$0\r\n\r\n:1\r\n*2\r\n$2\r\n\r\n\r\n$-1\r\n",
    "*2\r\n*3\r\n:0\r\n:16383\r\n*2\r\n$9\r\n127.0.0.1\r\n:7000\r\n+last\r\n",
};

}  // namespace

TEST_CASE("resp: every proper prefix of a reply is incomplete") {
    for (const auto& reply : kReplies) {
        const auto whole = RespParser::parse(reply);
        INFO("reply: " << reply);
        REQUIRE(whole.status == Status::complete);
        CHECK(whole.consumed == reply.size());
        for (std::size_t cut = 0; cut < reply.size(); ++cut) {
            INFO("the first " << cut << " bytes");
            const auto parsed = RespParser::parse(std::string_view(reply).substr(0, cut));
            CHECK(parsed.status == Status::incomplete);
            CHECK(parsed.consumed == 0);
        }
    }
}

TEST_CASE("resp: a multi-reply stream cut at any point reads its whole replies and then incomplete") {
    std::string stream;
    std::vector<std::size_t> ends;  // where each reply ends in the stream
    for (const auto& reply : kReplies) {
        stream += reply;
        ends.push_back(stream.size());
    }
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
        INFO("the first " << cut << " of " << stream.size() << " bytes");
        const std::string_view prefix = std::string_view(stream).substr(0, cut);
        std::size_t at = 0;
        std::size_t read = 0;
        while (true) {
            const auto parsed = RespParser::parse(prefix.substr(at));
            if (parsed.status != Status::complete) {
                CHECK(parsed.status == Status::incomplete);  // never malformed
                break;
            }
            REQUIRE(read < ends.size());
            at += parsed.consumed;
            CHECK(at == ends[read]);
            ++read;
        }
        std::size_t whole = 0;
        while (whole < ends.size() && ends[whole] <= cut) ++whole;
        CHECK(read == whole);
    }
}

TEST_CASE("resp: a length announced but not yet arrived is incomplete, up to the limits") {
    CHECK(RespParser::parse("$16777216\r\n").status == Status::incomplete);  // kMaxBulk itself
    CHECK(RespParser::parse("*1048576\r\n").status == Status::incomplete);   // kMaxElements itself
    CHECK(RespParser::parse("$3\r\nfoo").status == Status::incomplete);
    CHECK(RespParser::parse("$3\r\nfoo\r").status == Status::incomplete);
    CHECK(RespParser::parse("*2\r\n:1\r\n").status == Status::incomplete);
    // A long simple string still arriving (under 64 KiB without its CRLF).
    CHECK(RespParser::parse("+" + std::string(60 * 1024, 'a')).status == Status::incomplete);
}

// ---------------------------------------------------------------------------------------------
// Malformed

TEST_CASE("resp: malformed input is malformed") {
    const std::string_view rows[] = {
        // Unknown type bytes (RESP3's among them: the gateway speaks RESP2).
        "?foo\r\n",
        "OK\r\n",
        "_\r\n",
        "%1\r\n+a\r\n+b\r\n",
        "#t\r\n",
        ",1.5\r\n",
        // Lengths and integers that are no numbers.
        "$abc\r\n",
        "$\r\n",
        "$3x\r\nfoo\r\n",
        "$ 3\r\nfoo\r\n",
        "$+3\r\nfoo\r\n",
        "$3.0\r\nfoo\r\n",
        "*x\r\n",
        "*\r\n",
        "*2a\r\n:1\r\n:2\r\n",
        ":abc\r\n",
        ":\r\n",
        ":12 \r\n",
        ":1.5\r\n",
        ":9223372036854775808\r\n",   // one past INT64_MAX
        "$99999999999999999999\r\n",  // does not fit an int64
        // A bulk whose payload is not followed by CRLF.
        "$3\r\nfooXY",
        "$3\r\nfoob\r\n",
        "$3\r\nfo\r\n\r\n",
        "$3\r\nfoo\n\r",
        "*1\r\n$3\r\nfooXY",
        // Over the limits.
        "$16777217\r\n",
        "*1048577\r\n",
        // Negative counts other than -1.
        "$-2\r\n",
        "$-10\r\n",
        "*-2\r\n",
        "*-100\r\n",
        // A malformed element makes the whole reply malformed.
        "*2\r\n:1\r\n?x\r\n",
        "*1\r\n*1\r\n$-5\r\n",
    };
    for (const auto row : rows) {
        INFO(row);
        CHECK(RespParser::parse(row).status == Status::malformed);
    }
}

TEST_CASE("resp: a line of 64 KiB without its CRLF is malformed, not incomplete") {
    CHECK(RespParser::parse("+" + std::string(64 * 1024 + 1, 'a')).status == Status::malformed);
    CHECK(RespParser::parse("$" + std::string(64 * 1024 + 1, '1')).status == Status::malformed);
}

TEST_CASE("resp: arrays nest kMaxDepth deep, and no deeper") {
    REQUIRE(RespParser::kMaxDepth == 8);
    const std::string deepest = nested_arrays(RespParser::kMaxDepth, ":1\r\n");
    const auto parsed = RespParser::parse(deepest);
    REQUIRE(parsed.status == Status::complete);
    CHECK(parsed.consumed == deepest.size());
    const RespReply* reply = &parsed.reply;
    for (int i = 0; i < RespParser::kMaxDepth; ++i) {
        REQUIRE(reply->type == Type::array);
        REQUIRE(reply->elements.size() == 1);
        reply = &reply->elements[0];
    }
    CHECK(reply->type == Type::integer);
    CHECK(reply->integer == 1);

    CHECK(RespParser::parse(nested_arrays(RespParser::kMaxDepth + 1, ":1\r\n")).status ==
          Status::malformed);
    // An empty array counts as a level too: 8 arrays in all read, 9 do not.
    CHECK(RespParser::parse(nested_arrays(RespParser::kMaxDepth - 1, "*0\r\n")).status ==
          Status::complete);
    CHECK(RespParser::parse(nested_arrays(RespParser::kMaxDepth, "*0\r\n")).status ==
          Status::malformed);
    CHECK(RespParser::parse(nested_arrays(100, ":1\r\n")).status == Status::malformed);
    // Known malformed as soon as the too-deep header is there, without waiting for more.
    CHECK(RespParser::parse(nested_arrays(RespParser::kMaxDepth + 1, "")).status ==
          Status::malformed);
}

// ---------------------------------------------------------------------------------------------
// Key slots

TEST_CASE("redis key slot: the cluster spec's vectors") {
    // The spec's CRC16 (XMODEM) check value: CRC16("123456789") = 0x31C3.
    CHECK(redis_key_slot("123456789") == (0x31C3 % kRedisSlots));
    CHECK(redis_key_slot("123456789") == 12739);
    // As redis-server 7's CLUSTER KEYSLOT answers them.
    CHECK(redis_key_slot("foo") == 12182);
    CHECK(redis_key_slot("bar") == 5061);
    CHECK(redis_key_slot("user1000") == 3443);
    CHECK(redis_key_slot("") == 0);
    CHECK(kRedisSlots == 16384);
}

TEST_CASE("redis key slot: a hash tag hashes only the text between the first { and the next }") {
    CHECK(redis_key_slot("{user1000}.following") == redis_key_slot("user1000"));
    CHECK(redis_key_slot("{user1000}.followers") == redis_key_slot("user1000"));
    CHECK(redis_key_slot("{user1000}.following") == 3443);
    // The gateway's global rate-limit keys: every key of a route lands in the route's slot.
    CHECK(redis_key_slot("gateway:rl:{get-subscription-blocks}:h:abc") ==
          redis_key_slot("get-subscription-blocks"));
    CHECK(redis_key_slot("gateway:rl:{get-subscription-blocks}:h:abc") == 16314);
    CHECK(redis_key_slot("gateway:rl:{get-subscription-blocks}:ip:10.0.0.1") == 16314);
}

TEST_CASE("redis key slot: an empty or unclosed tag hashes the whole key") {
    // "foo{}{bar}": the first tag is empty, so the whole key is hashed (not "bar").
    CHECK(redis_key_slot("foo{}{bar}") == 8363);
    CHECK(redis_key_slot("foo{}{bar}") != redis_key_slot("bar"));
    CHECK(redis_key_slot("{}") == 15257);
    // "foo{{bar}}zap": the tag runs from the first '{' to the first '}' after it: "{bar".
    CHECK(redis_key_slot("foo{{bar}}zap") == redis_key_slot("{bar"));
    CHECK(redis_key_slot("foo{{bar}}zap") == 4015);
    // No '}' after the '{': the whole key.
    CHECK(redis_key_slot("a{b") == 13340);
    CHECK(redis_key_slot("foo}{bar") == 7624);
    // A '}' before the first '{' closes nothing: "foo}{bar}" has the tag "bar".
    CHECK(redis_key_slot("foo}{bar}") == redis_key_slot("bar"));
}

TEST_CASE("redis key slot: every slot is below 16384") {
    for (int i = 0; i < 5000; ++i) {
        const std::string key = "key:" + std::to_string(i) + std::string(static_cast<std::size_t>(i % 7), '\xff');
        REQUIRE(redis_key_slot(key) < kRedisSlots);
    }
}

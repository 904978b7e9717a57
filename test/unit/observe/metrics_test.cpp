#include <catch2/catch.hpp>

#include "observe/metrics_exposition.hpp"
#include "observe/worker_metrics.hpp"

using namespace gateway;
using std::chrono::milliseconds;

TEST_CASE("duration histograms put each observation in the first bucket that holds it") {
    DurationHistogram histogram;
    histogram.observe(std::chrono::microseconds(400));   // <= 0.0005
    histogram.observe(milliseconds(1));                  // <= 0.001 (bounds are inclusive)
    histogram.observe(std::chrono::seconds(60));         // +Inf
    CHECK(histogram.counts[0] == 1);
    CHECK(histogram.counts[1] == 1);
    CHECK(histogram.counts.back() == 1);
    CHECK(histogram.count == 3);
    CHECK(histogram.sum_seconds == Approx(60.0014));
}

TEST_CASE("worker counters sum across workers and render as Prometheus text") {
    WorkerMetrics one, two;
    one.count_request("r", "GET", 200, milliseconds(2));
    two.count_request("r", "GET", 201, milliseconds(3));
    two.count_request("r", "GET", 503, milliseconds(3));
    one.count_rejection(Errc::forbidden);
    two.count_rejection(Errc::malformed_request);
    two.count_rejection(Errc::header_too_large);
    const Errc timeout = Errc::upstream_timeout;
    one.count_upstream("penalties", milliseconds(1), &timeout);
    two.count_upstream("penalties", milliseconds(1), nullptr);

    WorkerMetrics sum;
    sum.add(one);
    sum.add(two);
    const std::string text = render_metrics(sum, ProcessGauges{3, 2, 1, 0});
    INFO(text);
    using Catch::Matchers::Contains;
    CHECK_THAT(text, Contains("# TYPE gateway_requests_total counter"));
    CHECK_THAT(text, Contains(R"(gateway_requests_total{route="r",method="GET",status_class="2xx"} 2)"));
    CHECK_THAT(text, Contains(R"(gateway_requests_total{route="r",method="GET",status_class="5xx"} 1)"));
    CHECK_THAT(text, Contains(R"(gateway_request_duration_seconds_bucket{route="r",method="GET",le="0.005"} 3)"));
    CHECK_THAT(text, Contains(R"(gateway_request_duration_seconds_bucket{route="r",method="GET",le="0.0025"} 1)"));
    CHECK_THAT(text, Contains(R"(gateway_rejected_requests_total{reason="auth"} 1)"));
    CHECK_THAT(text, Contains(R"(gateway_rejected_requests_total{reason="framing"} 1)"));
    CHECK_THAT(text, Contains(R"(gateway_rejected_requests_total{reason="limits"} 1)"));
    CHECK_THAT(text, Contains(R"(gateway_upstream_errors_total{upstream="penalties",kind="timeout"} 1)"));
    CHECK_THAT(text, Contains(R"(gateway_upstream_duration_seconds_count{upstream="penalties"} 2)"));
    CHECK_THAT(text, Contains("gateway_open_client_connections 3"));
    CHECK_THAT(text, Contains("gateway_upstream_connections 2"));
    CHECK_THAT(text, Contains("gateway_config_loads_total 1"));
}

TEST_CASE("metric labels escape what a route name could hold") {
    WorkerMetrics metrics;
    metrics.count_request("a\"b", "GET", 200, milliseconds(1));
    const std::string text = render_metrics(metrics, {});
    CHECK_THAT(text, Catch::Matchers::Contains(R"(route="a\"b")"));
}

TEST_CASE("request counts land in their own series whether routes come in runs or interleaved, and a copy counts apart") {
    using namespace std::chrono_literals;
    WorkerMetrics metrics;
    metrics.count_request("a", "GET", 200, 1ms);
    metrics.count_request("a", "GET", 503, 1ms);
    metrics.count_request("b", "GET", 200, 1ms);
    metrics.count_request("a", "PUT", 204, 1ms);
    metrics.count_request("a", "GET", 201, 1ms);
    const auto& a_get = metrics.routes().at("a\tGET");
    CHECK(a_get.by_status_class[2] == 2);
    CHECK(a_get.by_status_class[5] == 1);
    CHECK(metrics.routes().at("b\tGET").by_status_class[2] == 1);
    CHECK(metrics.routes().at("a\tPUT").by_status_class[2] == 1);

    // A scrape's copy must not count into the worker's series (nor the other way round).
    WorkerMetrics copy = metrics;
    copy.count_request("a", "GET", 200, 1ms);
    CHECK(copy.routes().at("a\tGET").by_status_class[2] == 3);
    CHECK(metrics.routes().at("a\tGET").by_status_class[2] == 2);
    metrics.count_request("a", "GET", 200, 1ms);
    CHECK(metrics.routes().at("a\tGET").by_status_class[2] == 3);
    CHECK(copy.routes().at("a\tGET").by_status_class[2] == 3);
}

TEST_CASE("TLS handshake errors sum across workers, one series per reason, all present from the start") {
    WorkerMetrics first;
    WorkerMetrics second;
    first.count_tls_handshake_error(TlsHandshakeFailure::protocol_version);
    second.count_tls_handshake_error(TlsHandshakeFailure::protocol_version);
    second.count_tls_handshake_error(TlsHandshakeFailure::no_client_certificate);
    WorkerMetrics sum;
    sum.add(first);
    sum.add(second);
    const std::string text = render_metrics(sum, {});
    CHECK_THAT(text, Catch::Contains("gateway_tls_handshake_errors_total{reason=\"protocol_version\"} 2\n"));
    CHECK_THAT(text, Catch::Contains("gateway_tls_handshake_errors_total{reason=\"no_client_certificate\"} 1\n"));
    for (const auto reason : kTlsHandshakeFailures) {
        CHECK_THAT(text, Catch::Contains("gateway_tls_handshake_errors_total{reason=\"" +
                                         std::string(reason) + "\"}"));
    }
}

TEST_CASE("an upstream's failed TLS handshake is its own kind of upstream error") {
    WorkerMetrics metrics;
    const Errc failed = Errc::upstream_tls_failed;
    metrics.count_upstream("penalties", milliseconds(3), &failed);
    const std::string text = render_metrics(metrics, {});
    CHECK_THAT(text, Catch::Contains(
                         "gateway_upstream_errors_total{upstream=\"penalties\",kind=\"tls\"} 1\n"));
    CHECK_THAT(text, Catch::Contains(
                         "gateway_upstream_errors_total{upstream=\"penalties\",kind=\"reset\"} 0\n"));
}

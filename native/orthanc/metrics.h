// Prometheus metrics (/tools/metrics-prometheus), refreshed by Orthanc when it
// serves that page: aibridge_gateway_up, aibridge_gateway_restarts,
// aibridge_changes_dropped.
#pragma once

namespace aibridge {

void RefreshMetrics();

}  // namespace aibridge

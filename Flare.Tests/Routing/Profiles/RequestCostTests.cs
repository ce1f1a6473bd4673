using Flare.Routing.Profiles;

namespace Flare.Tests.Routing.Profiles;

public sealed class RequestCostTests
{
    [Fact]
    public void ApiUsd_PricesPerMillionTokens_ScaledToTheRequest() =>
        // 2,000 in at $0.50/M + 500 out at $1.50/M = $0.001 + $0.00075.
        Assert.Equal(0.00175, RequestCost.ApiUsd(2000, 500, 0.50, 1.50), 12);

    [Fact]
    public void SelfHostedUsd_GpuHoursOverThroughput()
    {
        // 2 GPUs at $3/h = $6/h; 2 req/s = 7,200 req/h → $0.000833… per request.
        Assert.Equal(6.0 / 7200, RequestCost.SelfHostedUsd(3, 2, 2), 12);
        Assert.Equal(double.PositiveInfinity, RequestCost.SelfHostedUsd(3, 2, 0));
    }

    [Fact]
    public void SelfHostedUsd_FromModel_EqualsGpuHoursOverLittlesLawThroughput()
    {
        var model = ProfileFitterTests.Truth;

        var fromModel = RequestCost.SelfHostedUsd(model, 512, 128, 8, usdPerGpuHour: 2.5, gpuCount: 4);

        var throughput = model.Throughput(512, 128, 8).RequestsPerSecond;
        Assert.Equal(RequestCost.SelfHostedUsd(2.5, 4, throughput), fromModel, 12);
    }
}

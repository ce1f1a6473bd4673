using Flare.Routing.Routing;
using Microsoft.EntityFrameworkCore;

namespace Flare.Data.Gateway;

/// <summary>Reads the enabled deployments into an immutable <see cref="RoutingSnapshot"/>.</summary>
public static class RoutingSnapshotLoader
{
    public static async Task<RoutingSnapshot> LoadAsync(FlareDbContext db, long revision, CancellationToken ct = default)
    {
        var rows = await db.Deployments.AsNoTracking()
            .Where(d => d.Enabled)
            .Include(d => d.Model)
            .Include(d => d.GpuType)
            .ToListAsync(ct);
        return new RoutingSnapshot(revision, rows.Select(d => new DeploymentTarget(
            d.Id,
            d.Name,
            d.Model!.Name,
            d.ServedModelName,
            d.Kind,
            d.BaseUrl.TrimEnd('/'),
            d.ApiKey,
            d.MaxConcurrency,
            d.Model.InputPricePerMTokUsd,
            d.Model.OutputPricePerMTokUsd,
            d.GpuType is null ? 0 : d.GpuType.PricePerHourUsd * d.GpuCount)));
    }
}

using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Flare.Data.Gateway;

internal sealed class ApiKeyConfiguration : IEntityTypeConfiguration<ApiKeyEntity>
{
    public void Configure(EntityTypeBuilder<ApiKeyEntity> b)
    {
        b.ToTable("ApiKeys");
        b.Property(x => x.Name).HasMaxLength(100).IsRequired();
        b.Property(x => x.Prefix).HasMaxLength(20).IsRequired();
        b.Property(x => x.KeyHash).HasMaxLength(64).IsRequired();
        b.HasIndex(x => x.KeyHash).IsUnique();
    }
}

internal sealed class RequestLogConfiguration : IEntityTypeConfiguration<RequestLogEntity>
{
    public void Configure(EntityTypeBuilder<RequestLogEntity> b)
    {
        b.ToTable("RequestLog");
        b.Property(x => x.RequestId).HasMaxLength(40).IsRequired();
        b.Property(x => x.Endpoint).HasMaxLength(40);
        b.Property(x => x.RequestedModel).HasMaxLength(200);
        b.Property(x => x.DeploymentName).HasMaxLength(100);
        b.Property(x => x.Policy).HasMaxLength(50);
        b.Property(x => x.ErrorType).HasMaxLength(60);
        b.HasIndex(x => x.TimestampUtc);
        b.HasIndex(x => x.RequestId);
        // A plan's observed metrics read its newest rows: found by plan, newest first, without scanning the others.
        b.HasIndex(x => new { x.PlanVersion, x.Id });
        b.Ignore(x => x.Decision);
    }
}

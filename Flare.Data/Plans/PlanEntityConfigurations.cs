using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Flare.Data.Plans;

internal sealed class RoutingPlanConfiguration : IEntityTypeConfiguration<RoutingPlanEntity>
{
    public void Configure(EntityTypeBuilder<RoutingPlanEntity> b)
    {
        b.ToTable("RoutingPlans");
        b.Property(x => x.Policy).HasMaxLength(50).IsRequired();
        b.Property(x => x.Status).HasConversion<string>().HasMaxLength(20);
        b.Property(x => x.Failure).HasMaxLength(2000);
        b.Property(x => x.CreatedBy).HasMaxLength(100).IsRequired();
        b.Property(x => x.Reason).HasMaxLength(1000);
        b.HasIndex(x => x.CreatedUtc);
    }
}

internal sealed class RoutingPlanActivationConfiguration : IEntityTypeConfiguration<RoutingPlanActivationEntity>
{
    public void Configure(EntityTypeBuilder<RoutingPlanActivationEntity> b)
    {
        b.ToTable("RoutingPlanActivations");
        b.Property(x => x.ActivatedBy).HasMaxLength(100).IsRequired();
        b.Property(x => x.Reason).HasMaxLength(1000);
        b.HasOne<RoutingPlanEntity>().WithMany().HasForeignKey(x => x.PlanId).OnDelete(DeleteBehavior.Restrict);
        b.HasIndex(x => x.ActivatedUtc);
    }
}

import { Module } from '@nestjs/common';
import { ClusterFleetMetrics } from './cluster-fleet.metrics';
import { ClusterOverviewRepository } from './cluster-overview.repository';
import { ClusterOverviewService } from './cluster-overview.service';

/** The API's view of the listener fleet: GET /v1/cluster and the fleet-wide cluster gauges. */
@Module({ providers: [ClusterOverviewRepository, ClusterOverviewService, ClusterFleetMetrics], exports: [ClusterOverviewService] })
export class ClusterOverviewModule {}

/* dist_internal.h — what dist.c shares with dist_eigen.c; not installed. */
#ifndef TDL_DIST_INTERNAL_H
#define TDL_DIST_INTERNAL_H

/* TDL_OK for MPI_SUCCESS; else TDL_EIO with "WHAT failed: MPI's text". */
int tdl_dist_mpi_status(int rc, const char *what);

#endif

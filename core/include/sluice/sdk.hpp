#pragma once
/**
 * @file sdk.hpp
 * @brief Everything a plugin needs: include this one header.
 */
#include "sluice/ack.hpp"
#include "sluice/append.hpp"
#include "sluice/checkpoint.hpp"
#include "sluice/config.hpp"
#include "sluice/event.hpp"
#include "sluice/http.hpp"
#include "sluice/log.hpp"
#include "sluice/metrics.hpp"
#include "sluice/plugin.hpp"
#include "sluice/secret.hpp"
#include "sluice/template.hpp"
#include "sluice/version.hpp"

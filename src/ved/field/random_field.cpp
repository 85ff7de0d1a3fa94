#include "ved/field/random_field.hpp"
